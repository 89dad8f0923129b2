"""Box and file labels: what is printed on them, as a PDF and as ZPL for RFID label printers.

A label is the printed face of an item: its reference (档号), title, year and retention, a
Code 128 barcode and a QR code. ``content`` decides what each holds; ``pdf`` draws one label
or A4 sheets of them (reportlab); ``zpl`` writes the ZPL II format for an RFID label printer,
which also encodes the item's GIAI-96 EPC into the tag inside the label while it prints.
docs/labels.md tells staff how to print them and why the codes hold what they hold.
"""
