"""Invoicing: the price book, invoices with their lines and numbering, payments, and the public
invoice page customers pay from."""
