"""The central side: receiver, store, reports, enrolment."""
