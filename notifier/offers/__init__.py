"""Credit-monitoring offers (issue 17): code pools imported from the vendor's file, one code
issued per (offer, recipient) before the first message, the offer in each notice's context,
and the vendor's enrolment report for take-up. Who qualifies: notifier.compliance.offers."""

__all__: list[str] = []
