"""`notify init DIR`: a ready campaign folder, and where the built-in files live."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from notifier.errors import UsageError
from notifier.lists.samplelist import generate

__all__ = ["CONFIG_TEMPLATE", "builtin_templates", "init_campaign"]

CONFIG_TEMPLATE = '''\
# notify.toml — one breach-notice campaign. Every key is checked: a typo is an error
# naming the line. Secrets never go here: SMTP passwords come from NOTIFY_SMTP_PASSWORD,
# the token key from NOTIFY_SECRET (or is made once and kept in the 0600 ledger).

[campaign]
name = "{name}"
notice = "breach-notice"          # default notice for `notify send`
templates = "{templates}"          # one folder per notice: subject.txt, body.html, body.txt
timezone = "Europe/Berlin"         # deadlines are shown in this zone (IANA name)
require_approval = true           # send only a version approved in `notify preview` (outbox excepted)
approvers = ["legal", "security"] # roles that must each approve it ([] = any one approval)

[org]
name = "Example Shop"
legal_name = "Example Shop Ltd."
website = "https://www.example.com"

[incident]
reference = "INC-2026-0117"
occurred = 2026-11-10              # dates without quotes; add occurred_until for a range
discovered = 2026-11-18T09:30:00+01:00  # every legal clock starts here unless set below
# aware = 2026-11-18T11:00:00+01:00    # GDPR: when you became reasonably certain (default: discovered)
# determined = 2026-11-19T12:00:00+01:00  # TX, FL, CO: when the breach was determined (default: discovered)
contained = 2026-11-18T16:00:00+01:00
# notice_date = 2026-11-21         # defaults to the day the notice is sent
law_enforcement_delay = false      # California requires saying whether notice was delayed
what_happened = """On 10 November 2026 an unauthorised person signed in to the email \\
marketing platform we use, with a password stolen from one of our staff, and copied \\
part of our subscriber list."""
data_categories = ["email", "name", "postal_address", "phone", "date_of_birth", "password_hash"]
likely_consequences = [
  "You may receive fake emails that pretend to come from us and ask for your password or payment details.",
  "If your password was involved, someone could try it on other websites where you use the same one.",
]
what_we_are_doing = [
  "We locked the account that was misused and reset every password for the platform.",
  "We turned on two-factor authentication for all staff accounts.",
  "We reviewed and disconnected third-party integrations we did not need.",
  "We reported the incident to the data protection authority and are working with security experts.",
]
what_you_can_do = [
  "Do not click links in unexpected emails that mention this incident; go to our website directly.",
  "Watch for unusual activity on your accounts and tell us about anything suspicious.",
]

[categories]                       # plain words for each code in the list's `exposed` column
# loyalty_id = "your loyalty card number"

[contact]
email = "privacy@example.com"
phone = "+1 800 555 0100 (toll-free)"
hours = "Monday to Friday, 9:00 to 17:00"
url = "https://www.example.com/security-incident"
postal = "Example Shop Ltd., 1 Example Street, Exampletown"

[dpo]
name = "Dana Example"
email = "dpo@example.com"

[sender]
from = "Example Shop Security <security@example.com>"
reply_to = "privacy@example.com"
bounce_domain = "bounces.example.com"  # VERP return path: bounces+TOKEN@bounce_domain

[transport]
url = "outbox:outbox"              # or smtp://relay.example.com:587 (STARTTLS required by default)

[throttle]
rate = "50/s"                      # whole campaign; also "3000/min"
connections = 4
# per_domain = "10/s"              # default limit per recipient domain
# domains = {{ "gmail.com" = "20/s" }}
retry_base = "60s"                 # first retry after a 4xx, doubling each time
retry_max = "1h"
retry_window = "48h"               # give up on temporary failures after this long
linger = "15m"                     # keep a run going for retries due within this long

[lists]
files = ["{list}"]

[segments]                         # Jinja expressions over `recipient`; `all` is built in
affected = "recipient.exposed"
eu = "recipient.country is defined and recipient.country in ['AT','BE','DE','DK','ES','FI','FR','IE','IT','NL','PL','PT','SE']"
us = "recipient.country is defined and recipient.country == 'US'"
passwords = "'password_hash' in recipient.exposed"

[ledger]
path = "ledger.sqlite"             # created 0600: it holds personal data

# [channels]                       # email or a letter for each person (`notify channels` shows why)
# apply = true                     # false emails the whole segment: not lawful notice for all of them
# rules = "channels.toml"          # your own rules instead of the built-in ones
# org_facts = ["business_primarily_internet"]  # MD, MI: we do business primarily online
# cost_per_letter = 1.00           # print and postage, for the substitute-notice cost trigger

# [letters]                        # `notify letters build`: print-ready letters for the postal people
# paper = "letter"                 # or "a4"
# return_address = ["Example Corp", "100 Main Street", "Springfield, IL 62701"]   # required for letters

# [bounces]
# soft_threshold = 3               # soft bounces in a row that suppress an address...
# soft_span = "24h"                # ...when spread over at least this long
# shared_suppressions = "../suppressed.txt"   # one list for several campaigns

# Follow-ups (`notify schedule`): each one tells people facts from one section below, and
# `notify schedule`, `lint` and `check` refuse a follow-up whose section is still empty.
# [changes]                        # for what-we-changed
# credentials_reset = "We reset every password and access key to the email platform."
# two_factor = "Two-step sign-in is now required for every staff account."
# integrations_reviewed = "We removed four connected services we no longer needed."
# audit = "An independent security firm reviewed our systems."
# staff_training = "Every member of staff completed phishing training."
# software_updates = "We updated the email platform to its latest version."
# other = ["Anything else you changed, one sentence each."]

# [investigation]                  # for investigation-complete
# completed = 2026-12-15
# by = "an independent security firm"
# root_cause = "A staff password stolen in a phishing email."
# findings = ["What the investigation found, one sentence each."]

# [final_update]                   # for final-update
# summary = ["What happened and what we did, one sentence each."]
# support_until = 2027-06-30
# closing = "Thank you for your patience."

# [serve]                          # `notify serve`: unsubscribe links and Amazon SES events via SNS
# public_url = "https://notify.example.com"   # REQUIRED for follow-ups: their one-click unsubscribe link
# sns_topics = ["arn:aws:sns:eu-west-1:123456789012:ses-events"]
'''


def builtin_templates() -> Path:
    """The shipped notices: the repository's templates/ in a checkout (an editable install's
    copy under site-packages is taken at install time and would go stale as they are edited),
    else the wheel's."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout / "templates"
    packaged = resources.files("notifier") / "_builtin" / "templates"
    return Path(str(packaged))


def init_campaign(directory: Path, *, size: int = 1000) -> list[Path]:
    """Create a campaign in ``directory``. Raises UsageError rather than overwrite anything."""
    if (directory / "notify.toml").exists() or (directory.exists() and any(directory.iterdir())):
        raise UsageError(
            f"{directory} already exists and is not empty; refusing to overwrite a campaign",
            hint="choose a new folder name",
        )
    directory.mkdir(parents=True, exist_ok=True)
    source = builtin_templates()
    shutil.copytree(source, directory / "templates")
    (directory / "lists").mkdir()
    (directory / "lists" / "subscribers.csv").write_text(generate(size), encoding="utf-8")
    config = CONFIG_TEMPLATE.format(
        name=directory.resolve().name, templates="templates", list="lists/subscribers.csv"
    )
    (directory / "notify.toml").write_text(config, encoding="utf-8")
    # .notify/ holds the audit key: never commit it beside notify.toml.
    (directory / ".gitignore").write_text("ledger.sqlite*\noutbox/\n.notify/\n", encoding="utf-8")
    return [directory / "notify.toml", directory / "templates", directory / "lists" / "subscribers.csv"]
