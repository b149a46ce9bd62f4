"""Errors with the stable codes of libpdsm and the daemons (README "Error codes")."""

CODES = (
    "PDSM_ERR_USAGE",
    "PDSM_ERR_REGISTRY",
    "PDSM_ERR_SEGMENT",
    "PDSM_ERR_SEGMENT_SIZE",
    "PDSM_ERR_RANGE",
    "PDSM_ERR_BUSY",
    "PDSM_ERR_NO_STATUS",
    "PDSM_ERR_UNSUPPORTED",
    "PDSM_ERR_DAEMON",
)


class PdsmError(Exception):
    """Raised on purpose by the pdsm package; `code` is one of CODES, stable across versions."""

    def __init__(self, code, message):
        assert code in CODES, code
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.detail = message
