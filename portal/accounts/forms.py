"""Sign-in, registration, password and account-page forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.accounts.service import MIN_PASSWORD_LENGTH

TOO_SHORT = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
NO_MATCH = "The passwords do not match."


def plausible_address(form, field) -> None:
    """Only the shape: whether an account has it is never said."""
    value = (field.data or "").strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ValidationError("Enter a valid email address, like name@example.com.")


def _email() -> EmailField:
    return EmailField("Email address", validators=[
        DataRequired("Enter your email address."), Length(max=254), plausible_address])


def _new_password(label: str = "Password") -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(TOO_SHORT),
                           Length(min=MIN_PASSWORD_LENGTH, max=1024, message=TOO_SHORT)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.")


def _confirm() -> PasswordField:
    return PasswordField("Repeat the password", validators=[
        DataRequired("Type the password again."), EqualTo("password", message=NO_MATCH)])


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class RegistrationForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."),
                                                Length(max=120)])
    email = _email()
    password = _new_password()
    confirm = _confirm()


class ForgotPasswordForm(FlaskForm):
    email = _email()


class NewPasswordForm(FlaskForm):
    password = _new_password("New password")
    confirm = _confirm()


class ResendVerificationForm(FlaskForm):
    ticket = HiddenField()


class DisplayNameForm(FlaskForm):
    name = StringField("Display name", validators=[DataRequired("Enter your name."),
                                                   Length(max=120)],
                       description="Shown on your tickets and to our support team.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), Length(max=1024)])
    password = _new_password("New password")
    confirm = _confirm()


class EndOtherSessionsForm(FlaskForm):
    """Only the form token: the button signs out every other browser."""
