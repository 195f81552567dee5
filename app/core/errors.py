"""Domain errors: each carries a sentence a person can act on."""


class DomainError(Exception):
    """A rule said no. `message` is shown to the person; `status` is the HTTP status to answer with.
    `commit_anyway`: what the action changed before it said no must stand, so the caller commits, not rolls back."""

    status = 409
    commit_anyway = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class SummitNotSetUp(NotFound):
    """No summit row yet: pages send a signed-in organiser to the set-up page, and tell anyone else it is coming."""


class ValidationFailed(DomainError):
    """Bad input. `field` names the form field it is about, when there is one."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SummitFull(DomainError):
    pass


class RegistrationClosed(DomainError):
    pass


class InvalidState(DomainError):
    pass


class OfferLapsed(InvalidState):
    """The offer ran out before it was accepted. Finding that out expired it and passed the place on:
    that part stands, so the caller commits rather than rolls back."""

    commit_anyway = True


class Conflict(InvalidState):
    """The person's state changed a moment ago (another tab, another person, the system) so this action no
    longer applies. The message says what already happened; pages show it beside the page as it now stands."""
