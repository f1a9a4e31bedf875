"""A file from a ``dcc.Upload``, checked before any of it is decoded: the import pages share it."""
from __future__ import annotations

import base64
import binascii

import config
import inputs
from data.imports import ImportFileError, size_words


def uploaded_file(contents, filename) -> tuple[str, bytes]:
    """The uploaded file's name and bytes; ImportFileError when it is not a file upload at all."""
    if not isinstance(contents, str) or "," not in contents:
        raise ImportFileError("Choose a CSV or XLSX file first.")
    limit = config.get().import_max_bytes
    body = contents.split(",", 1)[1]
    if len(body) > limit * 4 // 3 + 8:   # refused before decoding: base64 is 4/3 of the file
        raise ImportFileError(f"The file is larger than {size_words(limit)} (IMPORT_MAX_BYTES).")
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ImportFileError("The upload could not be read; choose the file again.") from None
    return inputs.text(filename, 200) or "", data
