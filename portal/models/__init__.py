"""All database models, imported here so Alembic and the app see every table."""

from portal.models.account_security import AccountToken, TokenPurpose, UserSession
from portal.models.accounts import Organisation, OrganisationDomain, Role, User
from portal.models.audit import AuditEvent
from portal.models.feedback import FeedbackReason, FeedbackVote
from portal.models.login_throttle import LoginKnownNetwork, LoginThrottle
from portal.models.mailin import IncomingMail, MailOutcome
from portal.models.nodes import ContentRevision as ContentRevision
from portal.models.notices import Notice, NoticeKind, NoticeUpdate
from portal.models.search import SearchClick, SearchEvent
from portal.models.tickets import (
    MessageKind,
    OutboxMessage,
    SuggestionClick,
    Ticket,
    TicketAttachment,
    TicketDeadline,
    TicketMessage,
    TicketStatus,
)
from portal.models.training import Enrollment, EnrollmentStatus, TrainingSession
from portal.models.visits import VisitTrail
from portal.models.webhooks import WebhookDelivery

__all__ = ["FeedbackReason", "FeedbackVote", "Organisation", "Role", "User"]
__all__ += ["MessageKind", "OutboxMessage", "SuggestionClick", "Ticket", "TicketAttachment",
            "TicketDeadline", "TicketMessage", "TicketStatus"]
__all__ += ["Notice", "NoticeKind", "NoticeUpdate", "Enrollment", "EnrollmentStatus",
            "TrainingSession", "IncomingMail", "MailOutcome"]
__all__ += ["SearchClick", "SearchEvent"]
__all__ += ["LoginKnownNetwork", "LoginThrottle", "WebhookDelivery"]
__all__ += ["AccountToken", "AuditEvent", "OrganisationDomain", "TokenPurpose", "UserSession",
            "VisitTrail"]
