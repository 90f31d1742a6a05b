"""Publish: the analysts' copy of the marts, without what a failed check holds back."""
