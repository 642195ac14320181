"""The renderers: the workbook and the terminal view. They read a finished report and never touch AWS.

Import the domain and the base only.
"""
