"""Printable flyers, tear-off tabs, stickers and code cards (PDF with vector QR codes), flyer
batches with privacy-safe scan counts, and the print runs that make the PDFs.

`pdf.py` (fonts, page CSS, `render_pdf`) and `pdfjoin.py` are general and serve other printed
documents too.
"""
