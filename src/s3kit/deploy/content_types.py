"""s3kit's own content-type table for deploys, and the sniffing of files it does not know.

Python's `mimetypes` reads the machine's `/etc/mime.types` (and the Windows registry), so the
same site deployed from two machines would get different headers and re-upload for nothing;
this module must never use it. The table covers what static sites ship. Choices where
servers disagree: JavaScript is `text/javascript` (RFC 9239 and the HTML standard), `.ico` is
`image/x-icon` (what nginx serves and every browser accepts), YAML is `application/yaml`
(RFC 9512), source maps are JSON, and `.ts` is an MPEG transport stream (HLS video segments;
a TypeScript source needs a rule's `content_type`). Every textual type carries
`; charset=utf-8`, since a site's text is UTF-8 and a browser left to guess may pick
Windows-1252.

A name whose extension is not in the table (or that has none: `LICENSE`, `.well-known/...`,
a pretty URL uploaded as `about`) is sniffed from `head`: the file's first `SNIFF_BYTES`
bytes, or the whole file when it is shorter. `<!doctype html` or `<html` after an optional
UTF-8 BOM and whitespace, any case, is HTML; otherwise bytes that are valid UTF-8 with no NUL
are plain text, and anything else is `application/octet-stream`. A head of `SNIFF_BYTES` or
more was cut from a longer file, so a character cut at its end does not count against it; a
shorter head is the whole file and must end cleanly. An empty file is plain text. Pure: names
and bytes in, a type out.
"""

from __future__ import annotations

import codecs

from s3kit._units import KiB

SNIFF_BYTES = 4 * KiB
OCTET_STREAM = "application/octet-stream"
UTF8 = "; charset=utf-8"

# Base types whose bodies are text, so they get a charset (and are worth gzip, see compress).
TEXT_TYPES: frozenset[str] = frozenset(
    {
        "application/atom+xml",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/rss+xml",
        "application/toml",
        "application/xhtml+xml",
        "application/xml",
        "application/yaml",
        "image/svg+xml",
        "model/gltf+json",
        "text/cache-manifest",
        "text/calendar",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/markdown",
        "text/plain",
        "text/tab-separated-values",
        "text/vcard",
        "text/vtt",
    }
)

_BASE_TYPES: dict[str, str] = {
    # pages, styles, scripts and data
    "html": "text/html",
    "htm": "text/html",
    "xhtml": "application/xhtml+xml",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "text/javascript",
    "json": "application/json",
    "map": "application/json",
    "jsonld": "application/ld+json",
    "webmanifest": "application/manifest+json",
    "xml": "application/xml",
    "xsl": "application/xml",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "txt": "text/plain",
    "text": "text/plain",
    "log": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "toml": "application/toml",
    "ics": "text/calendar",
    "vcf": "text/vcard",
    "vtt": "text/vtt",
    "appcache": "text/cache-manifest",
    "wasm": "application/wasm",
    # images
    "svg": "image/svg+xml",
    "png": "image/png",
    "apng": "image/apng",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "jxl": "image/jxl",
    "heic": "image/heic",
    "ico": "image/x-icon",
    "cur": "image/x-icon",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    # fonts
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    # audio and video
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "oga": "audio/ogg",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "mov": "video/quicktime",
    "m3u8": "application/vnd.apple.mpegurl",
    "ts": "video/mp2t",
    # 3D models
    "glb": "model/gltf-binary",
    "gltf": "model/gltf+json",
    # documents and archives
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "tar": "application/x-tar",
    "bz2": "application/x-bzip2",
    "xz": "application/x-xz",
    "zst": "application/zstd",
    "7z": "application/x-7z-compressed",
    "rar": "application/vnd.rar",
    "bin": OCTET_STREAM,
    "exe": OCTET_STREAM,
    "dmg": OCTET_STREAM,
    "iso": OCTET_STREAM,
}

CONTENT_TYPES: dict[str, str] = {
    extension: base + UTF8 if base in TEXT_TYPES else base
    for extension, base in _BASE_TYPES.items()
}

_BOM = codecs.BOM_UTF8
_WHITESPACE = b" \t\r\n\x0c"
# What may follow the tag name for it to be a tag: whitespace, '>', or the end of `head`.
_TAG_END = frozenset(b" \t\r\n\x0c>")


def extension_of(key: str) -> str:
    """The lower-cased extension of a key's file name, '' if none (`.htaccess` has none)."""
    name = key.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def needs_head(key: str) -> bool:
    """Whether `content_type_for(key, head)` looks at `head` (the extension is not known)."""
    return extension_of(key) not in CONTENT_TYPES


def content_type_for(key: str, head: bytes = b"") -> str:
    """The Content-Type for `key`: from its extension, else sniffed from `head` (the first
    `SNIFF_BYTES` of the file, all of it if shorter; b"" is an empty file)."""
    known = CONTENT_TYPES.get(extension_of(key))
    return known if known is not None else sniff(head)


def sniff(head: bytes) -> str:
    """HTML, UTF-8 plain text or octet-stream, from a file's first `SNIFF_BYTES` bytes."""
    if _looks_like_html(head):
        return "text/html" + UTF8
    if b"\0" not in head and _is_utf8(head, whole=len(head) < SNIFF_BYTES):
        return "text/plain" + UTF8
    return OCTET_STREAM


def _looks_like_html(head: bytes) -> bool:
    text = head.removeprefix(_BOM).lstrip(_WHITESPACE).lower()
    for tag in (b"<!doctype html", b"<html"):
        if text.startswith(tag):
            rest = text[len(tag) : len(tag) + 1]
            return not rest or rest[0] in _TAG_END
    return False


def _is_utf8(head: bytes, *, whole: bool) -> bool:
    # Not final, an incremental decoder keeps an incomplete sequence at the end for later
    # instead of failing, which is what a head cut from a longer file needs.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
    except UnicodeDecodeError:
        return False
    return True


__all__ = [
    "CONTENT_TYPES",
    "OCTET_STREAM",
    "SNIFF_BYTES",
    "TEXT_TYPES",
    "content_type_for",
    "extension_of",
    "needs_head",
    "sniff",
]
