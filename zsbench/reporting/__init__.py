"""Presenting results: the figures (``figures``) and the offline HTML report (``html``). Internal."""
