"""The tutor's eval suite: run a checker over the exam files, score it, gate a release."""
