/* conf.h — the YAML configuration as the rest of the daemon sees it: validated, with
 * names resolved to indices, paths made absolute, durations in milliseconds.
 * SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/arena.h"
#include "lib/compiler.h"
#include "lib/diag.h"
#include "zones/cookie.h"
#include "zones/sign/sign.h"

/* Where something was written in the config, for messages that point back at it. */
struct conf_mark {
    unsigned line, col; /* 1-based */
};

/* An IPv4 or IPv6 address; IPv4 is kept in the first 4 bytes. */
struct conf_ip {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    char text[48]; /* as it should be printed: 192.0.2.1, 2001:db8::1 */
};

struct conf_listen {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char text[64]; /* "127.0.0.1:5353", "[::1]:5353" */
};

struct conf_zone {
    char *name; /* lower-case, with the trailing dot: "example.com." */
    char *path; /* absolute, or relative to the current directory */
    struct conf_mark mark;
    bool dnssec;             /* signed in memory with the policy below */
    struct sign_policy sign; /* its keys' paths are absolute or relative as path is */
};

struct conf_server {
    struct conf_listen *listen;
    size_t nlisten;
    unsigned workers;                     /* UDP threads per listen address; 0 = one per CPU */
    unsigned udp_payload;                 /* largest UDP response sent (RFC 6891); default 1232 */
    unsigned tcp_idle_ms;                 /* RFC 7766 §6.2.3 idle timeout; default 10000 */
    unsigned tcp_max_clients;             /* open TCP connections at once; default 1024 */
    unsigned tcp_max_per_client;          /* from one address at once; default 16 */
    unsigned tcp_backlog;                 /* listen(2) queue of connections not yet accepted */
    unsigned tcp_lifetime_ms;             /* longest a connection may last; default 120000 */
    unsigned udp_rcvbuf;                  /* receive buffer per UDP socket, bytes; default 4 MiB */
    unsigned zone_max_records;            /* per zone; default 10,000,000 */
    char *user, *group;                   /* drop to these after binding, or NULL */
    char *chroot;                         /* confine the process here after start-up, or NULL */
    char *control;                        /* Unix socket path, or NULL */
    char *control_group;                  /* group owning the socket, or NULL */
    char *state;                          /* runtime state file, or NULL */
    char *metrics;                        /* "host:port" for /metrics, or NULL */
    char *query_log;                      /* one line per query to this file, or NULL */
    uint8_t *nsid;                        /* RFC 5001 identifier, or NULL: off */
    size_t nsid_len;                      /* 1 to 255 bytes */
    char *identity;                       /* CHAOS id.server. TXT (RFC 4892), or NULL */
    char *version;                        /* CHAOS version.server. TXT, or NULL */
    bool cookies;                         /* RFC 7873 server cookies; default true */
    char *cookie_secret_file;             /* shared secrets, or NULL: a random one per process */
    struct cookie_secrets cookie_secrets; /* from the file, or the process's own */
    char *dnstap;                         /* dnstap frames to this file or socket, or NULL */
    bool dnstap_socket;                   /* dnstap is a Unix socket ("unix:PATH"), not a file */
};

/* A geoip.nets entry: an operator network that decides before any database. */
struct conf_net {
    struct conf_ip ip;
    uint8_t prefix;
    unsigned *regions; /* indices into config.regions, in order */
    size_t nregions;
    struct conf_mark mark;
};

/* Field paths into a database record, each a list of map keys and array indices such as
 * "country.iso_code" or "subdivisions.0.iso_code".  NULL means "detect from metadata". */
struct conf_geoip_fields {
    char *continent, *country, *subdivision, *latitude, *longitude;
};

struct conf_geoip {
    char **databases; /* absolute paths, tried in order */
    struct conf_mark *database_marks;
    const char *from; /* the config file that names them, for messages */
    size_t ndatabases;
    struct conf_net *nets;
    size_t nnets;
    struct conf_geoip_fields fields;
    bool ecs; /* honour EDNS Client Subnet (RFC 7871); default true */
};

struct conf_region {
    char *name;
    bool has_location;
    double lat, lon; /* degrees */
    struct conf_ip *addresses;
    size_t naddresses;
    char *cname; /* absolute target for DYNC services, or NULL */
    int check;   /* index into config.checks, or -1 for "always up" */
    struct conf_mark mark;
};

enum check_type { CHECK_HTTP, CHECK_HTTPS, CHECK_TCP };

struct conf_check {
    char *name;
    enum check_type type;
    char *url;        /* http/https: may hold "{address}" */
    unsigned port;    /* tcp: the port to connect to */
    unsigned *expect; /* accepted HTTP statuses; default {200} */
    size_t nexpect;
    char *body;        /* substring the body must contain, or NULL */
    char *host;        /* Host header, or NULL */
    bool tls_verify;   /* default true */
    bool initial_down; /* addresses start down until `rise` successes */
    unsigned interval_ms, timeout_ms, fall, rise;
    struct conf_mark mark;
};

enum policy_kind { POLICY_GEO, POLICY_WEIGHTED, POLICY_NEAREST, POLICY_LATENCY, POLICY_FAILOVER };

/* An ordered fallback list, or a weighted set when weights is non-NULL. */
struct conf_choice {
    unsigned *regions;
    unsigned *weights; /* NULL for an ordered list */
    size_t n;
};

/* One key of a geo map: "default", a continent code ("EU"), a country ("GB"), or a
 * subdivision ("US-CA"). */
struct conf_geo_entry {
    char *key;
    struct conf_choice choice;
    struct conf_mark mark;
};

struct conf_service {
    char *name;
    enum policy_kind policy;
    unsigned ttl;               /* 0: the DYNA/DYNC record's own TTL */
    unsigned ttl_degraded;      /* the TTL while the answer may soon change; 0: none */
    bool failback_manual;       /* failover: stay on the secondary until `failback` */
    unsigned max_answers;       /* addresses per answer; 0: all of the chosen region's */
    struct conf_geo_entry *map; /* geo */
    size_t nmap;
    struct conf_choice set; /* weighted: regions and weights; failover: order;
                               nearest/latency: the candidate regions (all if empty) */
    char *latency_table;    /* latency: CSV path */
    struct conf_mark mark;
};

/* Response rate limiting for UDP (in the manner of NSD and Knot RRL). */
struct conf_rrl {
    unsigned rate;                     /* responses per second per bucket; 0 turns it off */
    unsigned slip;                     /* every Nth limited response goes out truncated; 0: none */
    unsigned ipv4_prefix, ipv6_prefix; /* clients are grouped by these prefixes */
    struct conf_net *exempt;           /* never limited (default: loopback) */
    size_t nexempt;
};

/* How many live nodes must see an address down for the fleet to call it down. */
enum fleet_quorum { QUORUM_MAJORITY, QUORUM_ANY, QUORUM_ALL, QUORUM_COUNT };

/* The fleet: section (server/fleet/fleetconf.c).  node is NULL when there is no fleet. */
struct conf_fleet {
    char *node;  /* this node's name, unique in the fleet */
    char **etcd; /* endpoint URLs, tried in order */
    size_t netcd;
    char *prefix; /* every key lives under it; starts and ends with '/' */
    char *user;   /* etcd authentication, or NULL */
    char *password_file;
    char *tls_ca, *tls_cert, *tls_key; /* https endpoints; each may be NULL */
    char *probe_source;                /* the address this node's probes leave from, or NULL */
    unsigned timeout_ms;               /* per etcd request; default 2000 */
    enum fleet_quorum quorum;
    unsigned quorum_count; /* QUORUM_COUNT */
    struct conf_mark mark;
};

struct config {
    char *path; /* the file this came from */
    struct conf_server server;
    struct conf_rrl rrl;
    struct conf_geoip geoip;
    struct conf_region *regions;
    size_t nregions;
    struct conf_check *checks;
    size_t nchecks;
    struct conf_service *services;
    size_t nservices;
    struct conf_zone *zones;
    size_t nzones;
    struct conf_fleet fleet;
    struct arena arena; /* everything above lives here */
};

/* Reads and validates path.  On success returns the config; on failure returns NULL
 * with every problem in d as "file:line:column: error: …". */
struct config *conf_load(const char *path, struct diag *d) F_WUNUSED;

/* Like conf_load, but keeps what could be read when there were errors, with *clean false,
 * so that `meridiand -t` can still check every zone the file names.  NULL only when memory
 * ran out. */
struct config *conf_read(const char *path, struct diag *d, bool *clean) F_WUNUSED;
void conf_free(struct config *c);

/* Lookups by name; -1 when absent. */
int conf_find_region(const struct config *c, const char *name);
int conf_find_service(const struct config *c, const char *name);
