/**
 * Wire constants of the PDSM protocol, spelled as in spec/protocol.md. Offsets are byte
 * offsets from the first byte of the datagram (not of the body), so a number here and the
 * "Offset" column of the spec's field table are the same number. All multi-byte fields are
 * big-endian (network byte order, spec §2).
 */

// spec/protocol.md §2 Conventions, §3 Common header
export const MAGIC = 0x5044534d; // "PDSM"
/** The protocol version of this implementation (spec §10.4): session datagrams carry it. */
export const VERSION = 2;
export const VERSION_MIN_SUPPORTED = 2;
export const VERSION_MAX_SUPPORTED = 2;
/** HELLO, WELCOME and REJECT always carry header Version 1, in every version (spec §10.4). */
export const HANDSHAKE_HEADER_VERSION = 1;

export const HDR_MAGIC = 0; // u32
export const HDR_VERSION = 4; // u8
export const HDR_TYPE = 5; // u8
export const HDR_FLAGS = 6; // u8
export const HDR_FLOW = 7; // u8
export const HDR_SRC = 8; // u16
export const HDR_DST = 10; // u16
export const HDR_EPOCH = 12; // u32
export const HDR_PACKET_NUMBER = 16; // u64, top 16 bits zero
export const HEADER_SIZE = 24;
/** The AEAD nonce is the 12 header bytes epoch || packet_number (spec §9.3). */
export const HDR_NONCE = HDR_EPOCH;
export const NONCE_SIZE = 12;

// spec §3.1 Message types
export const TYPE_HELLO = 0x01;
export const TYPE_WELCOME = 0x02;
export const TYPE_REJECT = 0x03;
export const TYPE_GOODBYE = 0x04;
export const TYPE_HEARTBEAT = 0x05;
export const TYPE_DATA = 0x10;
export const TYPE_COMMIT = 0x11;
export const TYPE_NACK = 0x12;
export const TYPE_DIGEST = 0x13;
export const TYPE_RESYNC = 0x14;

// spec §3.2 Flags: SEALED for every type, the low bits per type
export const FLAG_SEALED = 0x80;
export const FLAG_COMMIT_REPLACES = 0x01;
export const FLAG_COMMIT_FULL = 0x02;
export const FLAG_HEARTBEAT_ECHO = 0x01;
export const FLAG_HEARTBEAT_WANT_BC_UNICAST = 0x02;
/** spec §6.2, version 2: the remote echoes the WELCOME cookie after the flow entries. */
export const FLAG_HEARTBEAT_COOKIE = 0x04;
export const FLAG_RESYNC_FULL = 0x01;

// spec §3.3 Flows
export const FLOW_NONE = 0;
export const FLOW_MO = 1;
export const FLOW_RO = 2;
export const FLOW_BC = 3;

// spec §3.4 Node identifiers
export const NODE_MASTER = 0xffff;
export const NODE_ALL = 0xfffe;

// spec §11 Limits
/** Most remotes one master serves; client ids are 0..MAX_REMOTES-1. */
export const MAX_REMOTES = 16_384;
/** Smallest --mtu (largest datagram a node sends, UDP payload bytes). */
export const MIN_MTU = 576;
/** Largest UDP payload over IPv4 (65535 - 20 - 8); used for IPv6 too. */
export const MAX_DATAGRAM = 65507;
export const DEFAULT_MTU = 1200;
export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 65536;
export const DEFAULT_PAGE_SIZE = 1024;
/** Largest segment (or MO/RO slice, or BC): 2**32 - 65536, a whole number of every page size. */
export const MAX_SEGMENT_SIZE = 0xffff0000;
export const MAX_NACK_RANGES = 64;
/** Serial-number window: a NACK range, a batch and any comparison stay below 2**31. */
export const MAX_SEQ_SPAN = 0x7fffffff;
export const MAX_PACKET_NUMBER = 2 ** 48 - 1;
export const WORD_SIZES = [1, 2, 4, 8] as const;

// spec §4.1 HELLO
export const HELLO_VERSION_MIN = 24; // u8
export const HELLO_VERSION_MAX = 25; // u8
export const HELLO_MTU = 26; // u16
export const HELLO_PAGE_SIZE = 28; // u32
export const HELLO_SEG_SIZE = 32; // u32
export const HELLO_BC_SIZE = 36; // u32
export const HELLO_RO_NEXT_SEQ = 40; // u32
export const HELLO_WORD_SIZE = 44; // u8
export const HELLO_OPTIONS = 45;

// spec §4.2 WELCOME
export const WELCOME_REMOTE_EPOCH = 24; // u32
export const WELCOME_PAGE_SIZE = 28; // u32
export const WELCOME_SEG_SIZE = 32; // u32
export const WELCOME_BC_SIZE = 36; // u32
export const WELCOME_MO_NEXT_SEQ = 40; // u32
export const WELCOME_BC_NEXT_SEQ = 44; // u32
export const WELCOME_INTERVAL_MS = 48; // u32
export const WELCOME_HEARTBEAT_MS = 52; // u32
export const WELCOME_LIVENESS_MS = 56; // u32
export const WELCOME_CLIENT_COUNT = 60; // u16
export const WELCOME_MTU = 62; // u16
export const WELCOME_VERSION = 64; // u8
export const WELCOME_WORD_SIZE = 65; // u8
export const WELCOME_BC_MODE = 66; // u8
export const WELCOME_OPTIONS = 67;

export const BC_MODE_NONE = 0;
export const BC_MODE_UNICAST = 1;
export const BC_MODE_MULTICAST = 2;

// spec §4.3 REJECT
export const REJECT_REMOTE_EPOCH = 24; // u32
export const REJECT_EXPECTED = 28; // u32
export const REJECT_OFFERED = 32; // u32
export const REJECT_REASON = 36; // u16
export const REJECT_OPTIONS = 38;

// spec §4.3 reject reason codes
export const REJECT_REASONS = {
  version: 1,
  'client-id': 2,
  'seg-size': 3,
  'bc-size': 4,
  'page-size': 5,
  'word-size': 6,
  address: 7,
  'auth-required': 8,
  'auth-failed': 9,
  duplicate: 10,
  unavailable: 11,
  'not-joined': 12,
} as const;

// spec §4.4 GOODBYE
export const GOODBYE_REASON = 24; // u16
export const GOODBYE_SIZE = 26;
export const GOODBYE_REASONS = { shutdown: 0, evicted: 1, 'protocol-error': 2 } as const;

// spec §4.5 Options (HELLO, WELCOME, REJECT)
export const OPT_HOSTNAME = 1;
export const OPT_MULTICAST_GROUP = 2;
export const OPT_TEXT = 3;
/** spec §4.5 NONCE (HELLO, WELCOME): 16 fresh random bytes per session attempt. */
export const OPT_NONCE = 4;
/** spec §4.5 COOKIE (WELCOME): 16 bytes the remote echoes in its HEARTBEATs (address validation). */
export const OPT_COOKIE = 5;
/** spec §4.5 GROUP_NONCE (WELCOME, BC Mode 2): 16 bytes that key the master's multicast stream. */
export const OPT_GROUP_NONCE = 6;
export const NONCE_BYTES = 16;
export const COOKIE_BYTES = 16;
export const OPTION_HEADER_SIZE = 2; // type u8, length u8

// spec §5.1 DATA
export const DATA_SEQ = 24; // u32
export const DATA_BATCH_ID = 28; // u32
export const DATA_PAGE = 32; // u32
export const DATA_OFFSET = 36; // u16
export const DATA_LENGTH = 38; // u16
export const DATA_PAYLOAD = 40;

// spec §5.2 COMMIT
export const COMMIT_SEQ = 24; // u32
export const COMMIT_BATCH_ID = 28; // u32
export const COMMIT_DATA_COUNT = 32; // u32
export const COMMIT_PAGE_COUNT = 36; // u32
export const COMMIT_SIZE = 40;

// spec §6.1 NACK
export const NACK_RANGE_COUNT = 24; // u16
export const NACK_RANGES = 26;
export const NACK_RANGE_SIZE = 8; // first_seq u32, count u32

// spec §6.2 HEARTBEAT
export const HEARTBEAT_TIMESTAMP = 24; // u32
export const HEARTBEAT_ECHO_TIMESTAMP = 28; // u32
export const HEARTBEAT_ECHO_DELAY = 32; // u32
export const HEARTBEAT_FLOW_COUNT = 36; // u8
export const HEARTBEAT_FLOWS = 37;
export const HEARTBEAT_FLOW_SIZE = 5; // flow u8, highest_seq u32
/** spec §6.2: the 16-byte cookie follows the flow entries when COOKIE is set. */
export const HEARTBEAT_COOKIE_SIZE = 16;

// spec §6.3 DIGEST
export const DIGEST_BATCH_ID = 24; // u32
export const DIGEST_FIRST_PAGE = 28; // u32
export const DIGEST_HASH_COUNT = 32; // u16
export const DIGEST_HASHES = 34;
export const DIGEST_HASH_SIZE = 8; // u64

// spec §6.4 RESYNC
export const RESYNC_FIRST_PAGE = 24; // u32
export const RESYNC_PAGE_COUNT = 28; // u32
export const RESYNC_SIZE = 32;

// spec §9 Authentication
export const AEAD_ALGORITHM = 'chacha20-poly1305';
export const TAG_SIZE = 16;
export const KEY_SIZE = 32;
export const MIN_PSK_SIZE = 16;
export const REPLAY_WINDOW_SIZE = 1024;
/** spec §9.3: the clear random salt of a sealed HELLO, WELCOME or REJECT, after the header. */
export const HANDSHAKE_SALT_SIZE = 16;
/** spec §9.2: the length of the per-process cookie secret (local policy). */
export const COOKIE_SECRET_SIZE = 32;
