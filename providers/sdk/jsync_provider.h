/*
 * journal-sync provider plugin ABI, version 3 (hosts also load version-1 and -2 plugins).
 *
 * A provider is a shared library that exports two symbols:
 *   - jsync_provider_descriptor: constant data the host checks before running any plugin code;
 *   - jsync_provider_entry():    returns the provider table below.
 * Define both with JSYNC_DEFINE_PROVIDER (end of this file).
 *
 * Rules (the host relies on them):
 *   - Only C types cross this boundary; no C++ exceptions may escape a plugin function.
 *   - Every operation returns a status code (JSYNC_OK ...) and, when not OK, fills `err`
 *     with a message a user can act on. Messages never contain credentials.
 *   - Plugins never retry, sleep, pace, refresh tokens or check quota before writing: the host
 *     does all of that around every call. A plugin classifies each failure instead
 *     (JSYNC_RETRYABLE with retry_after_ms when the service said how long to wait).
 *   - Plugins reach the network only through host->http, which injects credentials.
 *   - The table is versioned like sqlite3_vfs: fields are only ever appended; the host reads a
 *     field only when struct_size covers it and uses an optional slot only when it is non-NULL.
 *   - Status codes are permanent; new ones are appended. The low 8 bits are the primary code,
 *     higher bits optional detail (JSYNC_PRIMARY extracts the primary code).
 *   - The cloud is hostile: whatever sits at a name may be huge, endless or not a file at all.
 *     A plugin never follows a link out of its location, never blocks on a special file, and
 *     stops a download as soon as the sink says stop (the host asks for a bounded range and
 *     says stop once an object passes its size limit).
 *
 * Version 2 (appended only; a version-2 plugin uses them only when the host's abi_version at
 * open() is >= 2, a version-2 host reads nothing new from a version-1 plugin):
 *   - jsync_get_sink.size: get()'s sink tells the host an object's total size before the
 *     first write, so an object over the host's limit is refused without downloading it;
 *   - jsync_list_sink.entry: a listing entry with a kind (file, special, directory), the
 *     modification time, and temporary upload files flagged instead of hidden;
 *   - JSYNC_FATAL_NOT_A_FILE: get() found something other than a regular file at the name.
 *
 * Version 3 (appended the same way; read with the host's abi_version at open() >= 3):
 *   - changes() reports removals (an entry flagged JSYNC_ENTRY_REMOVED; without a path when
 *     the service cannot name what went) and says when a cursor is no longer valid
 *     (JSYNC_NOT_FOUND_CURSOR_EXPIRED) instead of answering with a listing of its own: the
 *     host lists again itself, and says so.
 *   - open_ex() with flags (JSYNC_OPEN_CREATE: make a missing location, as
 *     SQLITE_OPEN_CREATE); without it the host calls open() and never asks for creation;
 *   - canonical_location(): the location in one normal form (as sqlite3_vfs.xFullPathname: an
 *     absolute, normal path; a URL without user info), which the host stores and opens;
 *   - default_location / location_help: whether a location must be given and what it is
 *     (version-1/2 plugins: a location is required, except OAuth app-folder providers,
 *     whose default is "journal");
 *   - pacer_min_interval_ms / pacer_burst: the pace the host's pacer keeps for this service;
 *   - jsync_auth_descriptor.authorize_params and redirect_host; endpoint URLs may hold
 *     {option} placeholders (a tenant), filled from that option's value or default.
 *   The option table (ABI 1) is read by the host from version 3 on: `jsync init/link
 *   --option KEY=VALUE` are checked against it, defaults are filled in before open, and
 *   options flagged secret are kept in the token store and never shown.
 *   - max_concurrency (table field, after close): how many instances of one location the host
 *     may run transfers on at once; 0 means the host's default (4), 1 no parallel transfers.
 *
 * Threading (all versions): one instance is never called from two threads at once; the host
 * may open several instances of one location (same location, options and credentials) and
 * call them concurrently, up to max_concurrency. Instances share nothing through the ABI but
 * host->http, which is safe to call from the instances' threads at once; a plugin with
 * process-wide state of its own guards it.
 */
#ifndef JSYNC_PROVIDER_H_
#define JSYNC_PROVIDER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JSYNC_PROVIDER_ABI_VERSION 3u
/* The oldest plugin ABI this header's hosts still load. */
#define JSYNC_PROVIDER_ABI_MIN_VERSION 1u
#define JSYNC_PROVIDER_DESCRIPTOR_MAGIC 0x4a53594e43505631ull /* "JSYNCPV1" */

#if defined(_WIN32)
#define JSYNC_PROVIDER_EXPORT __declspec(dllexport)
#else
#define JSYNC_PROVIDER_EXPORT __attribute__((visibility("default")))
#endif

/* Temporary upload names start with this; list() never emits them through emit (version 2:
   through entry, flagged JSYNC_ENTRY_TEMPORARY, so their owner can remove orphans). A plugin
   that knows the target's file name puts it right after the prefix
   (".jsync-tmp-<target name>-<random>"): the host tells whose upload it was from it. */
#define JSYNC_TEMP_PREFIX ".jsync-tmp-"

/* ---- status ----------------------------------------------------------------------------- */

enum jsync_status_code {
  JSYNC_OK = 0,
  JSYNC_NOT_FOUND = 1,      /* no such object */
  JSYNC_EXISTS = 2,         /* if_absent put found the name taken by other bytes */
  JSYNC_RETRYABLE = 3,      /* transient: throttled, unavailable, network; see retry_after_ms */
  JSYNC_AUTH_EXPIRED = 4,   /* credentials rejected even after a refresh: re-link needed */
  JSYNC_QUOTA_EXCEEDED = 5, /* the account is full */
  JSYNC_INVALID = 6,        /* bad configuration or argument: fix input, do not retry */
  JSYNC_FATAL = 7           /* anything else that retrying cannot fix */
};
#define JSYNC_PRIMARY(code) ((code)&0xff)
/* Extended codes (detail for logs; callers switch on the primary code). */
#define JSYNC_RETRYABLE_THROTTLED (JSYNC_RETRYABLE | (1 << 8))   /* 429, rate limit */
#define JSYNC_RETRYABLE_UNAVAILABLE (JSYNC_RETRYABLE | (2 << 8)) /* 5xx */
#define JSYNC_RETRYABLE_NETWORK (JSYNC_RETRYABLE | (3 << 8))     /* reset, timeout */
/* Version 2: get() found a symlink, FIFO, socket, device or directory at the name and read
   nothing from it. The host reports the object as refused (a version-1 host: as FATAL). */
#define JSYNC_FATAL_NOT_A_FILE (JSYNC_FATAL | (1 << 8))
/* Version 3: changes() was given a cursor the service no longer accepts (Drive's refused page
   token, Graph's 410 resyncRequired). Nothing was emitted; the host takes a start cursor and
   lists everything again. */
#define JSYNC_NOT_FOUND_CURSOR_EXPIRED (JSYNC_NOT_FOUND | (1 << 8))

typedef struct jsync_error {
  int64_t retry_after_ms; /* JSYNC_RETRYABLE: the wait the service asked for; -1 if none */
  char message[512];      /* NUL-terminated */
} jsync_error;

/* ---- capabilities (flags) --------------------------------------------------------------- */

#define JSYNC_CAP_CHANGE_FEED (1u << 0)      /* changes() reports new objects since a cursor */
#define JSYNC_CAP_PUSH (1u << 1)             /* watch() registers a webhook */
#define JSYNC_CAP_QUOTA (1u << 2)            /* quota() answers */
#define JSYNC_CAP_RANGE_READ (1u << 3)       /* get() honours offset/length server-side */
#define JSYNC_CAP_OAUTH (1u << 4)            /* needs an OAuth account (see auth) */
#define JSYNC_CAP_CASE_INSENSITIVE (1u << 5) /* names differing only in case collide */
/* What it stores is read right only through it (a synced folder with rules of its own, as
   iCloud Drive's evicted stubs and conflict copies): a journal made on it is not joined through
   another provider reading the same place. */
#define JSYNC_CAP_OWN_STORAGE (1u << 6)

/* ---- data passed across ------------------------------------------------------------------ */

/* Where a plugin writes bytes it downloads. write returns 0 to go on, nonzero to stop. */
typedef struct jsync_sink {
  void* ctx;
  int (*write)(void* ctx, const uint8_t* data, size_t len);
} jsync_sink;

/* Version 2: what a version-2 host passes to get() (as its first member, so `out` points to
   one). jsync_sink itself never grows: it is embedded in jsync_http_response. A plugin reads
   the extension only when the host's abi_version at open() is >= 2 (JSYNC_GET_SINK). */
typedef struct jsync_get_sink {
  jsync_sink sink;
  /* NULL or: call it once, before the first write, with the object's total size when the
     plugin knows it (a stat, Content-Length or Content-Range, the service's metadata).
     Nonzero: the host will not take the object (over its limit); write nothing more and
     return JSYNC_OK. */
  int (*size)(void* ctx, uint64_t total_size);
} jsync_get_sink;
#define JSYNC_GET_SINK(host_abi_version, out) \
  ((host_abi_version) >= 2 ? (const jsync_get_sink*)(const void*)(out) : (const jsync_get_sink*)0)

/* Version 2: what a listing entry is. */
#define JSYNC_KIND_FILE 0u              /* an object get() can read */
#define JSYNC_KIND_SPECIAL 1u           /* a symlink, FIFO, socket or device at an object name */
#define JSYNC_KIND_DIRECTORY 2u         /* a directory with nothing listable below it */
#define JSYNC_ENTRY_TEMPORARY (1u << 0) /* a temporary upload file (JSYNC_TEMP_PREFIX) */
/* Version 3, changes() only: the object at path was removed (path NULL or "": something was
   removed that the service cannot name; the host lists again to learn what). */
#define JSYNC_ENTRY_REMOVED (1u << 1)

typedef struct jsync_list_entry {
  const char* path;
  uint64_t size;
  int64_t mtime_ms; /* last modification, Unix milliseconds; -1 when unknown */
  uint32_t kind;    /* JSYNC_KIND_* */
  uint32_t flags;   /* JSYNC_ENTRY_* */
} jsync_list_entry;

/* Where a plugin reports a listing (or a change feed page). The host copies every string
   (path, token) and entry before emit, entry or set_next returns: the plugin may free or reuse
   them right after the call. */
typedef struct jsync_list_sink {
  void* ctx;
  void (*emit)(void* ctx, const char* path, uint64_t size);
  /* Call once with the token of the next page (list) or the new cursor (changes). Not calling
     it, or passing NULL or "", means this was the last page. */
  void (*set_next)(void* ctx, const char* token);
  /* Version 2: read it only when the host's abi_version >= 2; when non-NULL, use it instead
     of emit: one entry with its kind, time and flags. A plugin calls emit or entry for an object,
     never both. Special entries, directories and temporary files go only through entry. */
  void (*entry)(void* ctx, const jsync_list_entry* e);
} jsync_list_sink;

typedef struct jsync_header {
  const char* name;
  const char* value;
} jsync_header;

typedef struct jsync_http_request {
  const char* method; /* "GET", "PUT", "PROPFIND", ... */
  const char* url;    /* absolute */
  const jsync_header* headers;
  size_t header_count;
  const uint8_t* body;
  size_t body_len;
  uint32_t timeout_ms; /* 0: the host's default */
} jsync_http_request;

typedef struct jsync_http_response {
  int status;      /* HTTP status code; filled by the host */
  /* set by the plugin; write NULL discards the body. A success body (2xx) streams in as it
     arrives; for a status >= 300 the sink gets the server's error document (at most 64 KiB,
     e.g. Drive's JSON with the error reason) once, before http() returns. Read `status`
     before trusting what the sink received. */
  jsync_sink body;
  void* header_ctx;
  /* set by the plugin (may be NULL); called by the host for each response header */
  void (*on_header)(void* ctx, const char* name, const char* value);
} jsync_http_response;

/* Services the host hands a plugin at open(). Valid until close(). */
typedef struct jsync_host_services {
  uint32_t abi_version;
  uint32_t struct_size;
  void* host;
  /* One HTTP exchange through the host's client (TLS verified, proxy from the environment,
     connection reuse, credentials injected, one refresh on 401). Returns JSYNC_OK when a
     response arrived, whatever its HTTP status (read resp->status); otherwise a status for
     the transport failure (JSYNC_RETRYABLE_NETWORK, or JSYNC_AUTH_EXPIRED when a 401
     survived the refresh) with err filled. */
  int (*http)(void* host, const jsync_http_request* req, jsync_http_response* resp,
              jsync_error* err);
  /* level: 0 debug, 1 info, 2 warning, 3 error. Never pass credentials. */
  void (*log)(void* host, int level, const char* message);
  int64_t (*now_ms)(void* host);
  void (*random)(void* host, uint8_t* out, size_t len);
  /* Version 3 (present when struct_size covers it): the same exchange with no credentials,
     and no refresh on a 401, for a pre-authenticated URL the service handed out (an upload
     session's URL, a download link on another host) that must never see the account's
     token. */
  int (*http_without_credentials)(void* host, const jsync_http_request* req,
                                  jsync_http_response* resp, jsync_error* err);
} jsync_host_services;

/* Version 3: one name=value pair (an authorization-request parameter). */
typedef struct jsync_param {
  const char* name;
  const char* value;
} jsync_param;

/* How an account is linked; the host's auth layer runs the flows. A provider that needs no
   account has none (jsync_provider.auth NULL). */
typedef struct jsync_auth_descriptor {
  const char* kind; /* "none", "basic", "oauth2", "cloudkit" */
  /* Endpoints; from version 3 they may hold {name} placeholders, filled from the option
     `name` (its value, else its default): "https://login.example/{tenant}/oauth2/token". */
  const char* authorize_url;
  const char* token_url;
  const char* device_code_url;
  const char* revoke_url;
  const char* scopes; /* space-separated */
  /* Version 3 (the host reads them only when the table's abi_version >= 3): */
  /* Extra authorization-request parameters (access_type=offline, prompt=consent). */
  const jsync_param* authorize_params;
  size_t authorize_param_count;
  /* Host of the loopback redirect: NULL for "127.0.0.1" (RFC 8252); "localhost" for
     identity providers that ignore the port only for localhost. */
  const char* redirect_host;
} jsync_auth_descriptor;

/* A configuration option the plugin accepts in its config JSON (a string value each when set
   with --option). From version 3 the host reads the table: unknown keys given with --option
   are refused, a required option missing stops init/link/open, defaults are filled in before
   open, and a secret option is kept in the token store, never in plain configuration, and
   never printed. */
typedef struct jsync_option {
  const char* name;
  const char* help;
  const char* default_value; /* NULL: required */
  int secret;                /* nonzero: never logged or shown */
} jsync_option;

/* Version 3: open_ex() flags. */
#define JSYNC_OPEN_CREATE (1u << 0) /* create the location when it is missing (`jsync init`) */

/* Version 3: what open_ex() is given. It grows only by appending: read a field only when
   struct_size covers it. */
typedef struct jsync_open_args {
  uint32_t struct_size;
  uint32_t flags;          /* JSYNC_OPEN_* */
  const char* location;    /* in canonical form when the plugin has canonical_location */
  const char* config_json; /* the options, the table's defaults filled in */
} jsync_open_args;

typedef struct jsync_instance jsync_instance; /* plugin-owned, opaque to the host */

/* ---- the provider table ------------------------------------------------------------------ */

typedef struct jsync_provider {
  uint32_t abi_version; /* JSYNC_PROVIDER_ABI_VERSION the plugin was built with */
  uint32_t struct_size; /* sizeof(jsync_provider) the plugin was built with */
  const char* name;     /* "webdav": what `jsync init --provider` names */
  const char* version;  /* the plugin's own version */
  uint32_t capabilities;
  const jsync_auth_descriptor* auth; /* NULL: no account needed */
  const jsync_option* options;
  size_t option_count;

  /* ABI version 1. Required: open, put, get, list, remove, close. */

  /* location: the journal's place on this provider (a URL, a path); config_json: options.
     On failure *out stays NULL. */
  int (*open)(const jsync_host_services* host, const char* location, const char* config_json,
              jsync_instance** out, jsync_error* err);
  /* Stores len bytes at path. if_absent: atomically, only if no object is there; an object
     with the same bytes is success (a retried upload), other bytes JSYNC_EXISTS. Paths are
     relative, '/'-separated, without "." or ".." parts. A reader never sees a partial object. */
  int (*put)(jsync_instance* inst, const char* path, const uint8_t* data, size_t len, int if_absent,
             jsync_error* err);
  /* Writes bytes [offset, offset+length) of path to out (length UINT64_MAX: to the end).
     The host may call it again after a failure, so writes to out must restart cleanly.
     Past the end: offset >= the object's size is an empty read (JSYNC_OK, nothing written),
     and a range running past the end stops at it; only a missing object is JSYNC_NOT_FOUND.
     After the sink's write (or size) returned nonzero, write nothing more and return JSYNC_OK:
     the host knows why it said stop (an object over its limit) and reports that itself.
     The host bounds every read: it asks for [0, limit + 1) and refuses an object that fills
     it. A plugin reads no more than asked, stops when the sink's write or size says stop, and
     returns JSYNC_FATAL_NOT_A_FILE (version 1: JSYNC_FATAL) for anything but a regular file,
     never blocking on it (a FIFO) or following it (a symlink). */
  int (*get)(jsync_instance* inst, const char* path, uint64_t offset, uint64_t length,
             jsync_sink* out, jsync_error* err);
  /* Emits the objects under prefix (any depth), one page at a time; page_token NULL or ""
     for the first page. The prefix is a plain string prefix of the object path, not a folder:
     "changes/dev" matches "changes/dev/1" and "changes/device2/1" ("" lists everything). In
     any order (the host sorts the whole listing and drops names outside the prefix), but each
     name once across all pages. Temporary upload files are never emitted through emit. Nothing that
     sits at a name is skipped silently: with a version-2 host a symlink or special file is an
     entry of kind JSYNC_KIND_SPECIAL (never followed), an empty directory one of kind
     JSYNC_KIND_DIRECTORY, so the engine can report what it cannot read. */
  int (*list)(jsync_instance* inst, const char* prefix, const char* page_token,
              jsync_list_sink* out, jsync_error* err);
  /* Removing an absent object is success. */
  int (*remove)(jsync_instance* inst, const char* path, jsync_error* err);
  /* Optional (JSYNC_CAP_CHANGE_FEED): objects added since cursor (NULL/"": a start cursor
     only, nothing emitted), all pages of the service's feed in one call; reports the new
     cursor through set_next. Version 3: removals as entries flagged JSYNC_ENTRY_REMOVED, and
     JSYNC_NOT_FOUND_CURSOR_EXPIRED for a cursor the service refuses. */
  int (*changes)(jsync_instance* inst, const char* cursor, jsync_list_sink* out, jsync_error* err);
  /* Optional (JSYNC_CAP_PUSH): asks the service to call webhook_url on changes. */
  int (*watch)(jsync_instance* inst, const char* webhook_url, jsync_error* err);
  /* Optional (JSYNC_CAP_QUOTA): bytes used and total (total 0: unlimited or unknown). */
  int (*quota)(jsync_instance* inst, uint64_t* used, uint64_t* total, jsync_error* err);
  void (*close)(jsync_instance* inst);

  /* ABI version 3: read only when abi_version >= 3 (struct_size covers them). */

  /* Optional: open() with flags (JSYNC_OPEN_*). When set, the host calls it instead of open().
     Without JSYNC_OPEN_CREATE a missing location is an error (a missing mount must not look
     like an empty cloud); with it, the plugin creates the location. */
  int (*open_ex)(const jsync_host_services* host, const jsync_open_args* args,
                 jsync_instance** out, jsync_error* err);
  /* Optional: writes the canonical form of `location` (NUL-terminated, at most out_size bytes)
     to out: one spelling per place, so a journal opens the same place from any directory and
     stores no secret (a folder: absolute and normal; a URL: no user info, lower-case scheme
     and host). Called before open; needs no instance and no network. JSYNC_INVALID with a
     message for a location the plugin cannot use (or one longer than out_size). Without it
     the location is stored as given. */
  int (*canonical_location)(const jsync_host_services* host, const char* location, char* out,
                            size_t out_size, jsync_error* err);
  /* The location used when the user gives none; NULL: a location must be given. */
  const char* default_location;
  /* What a location is, for help and errors ("a directory path", "the URL of a WebDAV
     collection"); NULL: nothing said. */
  const char* location_help;
  /* The pace the host keeps for this service: at most pacer_burst calls back to back, then one
     every pacer_min_interval_ms (a token bucket). 0: no pacing. */
  uint32_t pacer_min_interval_ms;
  uint32_t pacer_burst; /* 0 counts as 1 */
  /* Version 3: instances of one location the host may call at once (see Threading above);
     0: the host's default, 1: one at a time. Read only when struct_size covers it. */
  uint32_t max_concurrency;
  /* Later ABI versions append slots here. */
} jsync_provider;

/* The table's size in older versions (version 2 appended nothing to it): a plugin that
   targets an older host declares that version and that size (JSYNC_DEFINE_PROVIDER_ABI). */
#define JSYNC_PROVIDER_SIZE_V1 offsetof(jsync_provider, open_ex)
#define JSYNC_PROVIDER_SIZE_V2 offsetof(jsync_provider, open_ex)

/* Checked by the host before it calls any plugin code. */
typedef struct jsync_provider_descriptor_t {
  uint64_t magic; /* JSYNC_PROVIDER_DESCRIPTOR_MAGIC */
  uint32_t abi_version;
  const char* name;
  const char* version;
} jsync_provider_descriptor_t;

typedef struct jsync_host_info {
  uint32_t abi_version; /* the host's JSYNC_PROVIDER_ABI_VERSION */
  const char* host_version;
} jsync_host_info;

/* Returns the table, or NULL when the plugin cannot run (the host says so and moves on). */
typedef const jsync_provider* (*jsync_provider_entry_fn)(const jsync_host_info* host);

#define JSYNC_PROVIDER_ENTRY_SYMBOL "jsync_provider_entry"
#define JSYNC_PROVIDER_DESCRIPTOR_SYMBOL "jsync_provider_descriptor"

#ifdef __cplusplus
#define JSYNC_EXTERN_C extern "C"
#define JSYNC_EXTERN_DECL extern "C"
#else
#define JSYNC_EXTERN_C
#define JSYNC_EXTERN_DECL extern
#endif

/* Defines the two exported symbols in a plugin's source file (C or C++). TABLE_FN is a
   function `const jsync_provider* f(const jsync_host_info*)` returning the table. */
#define JSYNC_DEFINE_PROVIDER(NAME, VERSION, TABLE_FN) \
  JSYNC_DEFINE_PROVIDER_ABI(NAME, VERSION, JSYNC_PROVIDER_ABI_VERSION, TABLE_FN)
/* The same for a plugin built for an older ABI version (so older hosts load it too): its
   table then says the same version, and its struct_size is that version's
   (JSYNC_PROVIDER_SIZE_V1 ...). */
#define JSYNC_DEFINE_PROVIDER_ABI(NAME, VERSION, ABI, TABLE_FN)                    \
  JSYNC_EXTERN_DECL JSYNC_PROVIDER_EXPORT const jsync_provider_descriptor_t        \
      jsync_provider_descriptor;                                                   \
  const jsync_provider_descriptor_t jsync_provider_descriptor = {                  \
      JSYNC_PROVIDER_DESCRIPTOR_MAGIC, ABI, NAME, VERSION};                        \
  JSYNC_EXTERN_C JSYNC_PROVIDER_EXPORT const jsync_provider* jsync_provider_entry( \
      const jsync_host_info* h) {                                                  \
    return TABLE_FN(h);                                                            \
  }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JSYNC_PROVIDER_H_ */
