"""Sign-in and registration forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class RegistrationForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(
            min=10, max=1024, message="Choose a password of at least 10 characters.")],
        description="At least 10 characters.")
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])
