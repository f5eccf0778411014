"""records: what a victim (and the police agency they authorise) gets: the records package, its delivery, the
remediation that follows, and the look-back re-contact of people who asked before and got nothing."""
