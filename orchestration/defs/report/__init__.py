"""Report: the marketing teams' HTML page, drawn from the analysts' copy."""
