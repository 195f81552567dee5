"""Badges: QR images, printable PDF badges and sheets, the delegate's badge page and organisers' printing."""
