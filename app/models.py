"""Every model module, imported once: the one list that Alembic, the CLI, the tests and the benchmarks use, so
that `Base.metadata` holds every table."""

import app.badges.models
import app.checkin.models
import app.core.audit
import app.core.auth.models
import app.core.mail.models
import app.core.summit.models
import app.dashboards.overview_cache  # noqa: F401
import fringe_events.models  # noqa: F401
import invitations.models
import invitations.question_models  # noqa: F401
