/* main.c — meridiand's command line: check a configuration, explain an answer, or serve.
 * SPDX-License-Identifier: MIT */
#include "config.h"
#include "lib/log.h"
#include "server/daemon.h"
#include "server/explain.h"
#include "server/loader.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/meridian/meridian.yaml"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: meridiand [-c FILE] [-t] [-d] [-h] [-V]\n"
            "       meridiand [-c FILE] --explain NAME CLIENT-IP\n"
            "       meridiand [-c FILE] --ds ZONE\n"
            "Meridian: an authoritative DNS server that answers dynamic names by the\n"
            "client's location, the regions' health, weights and failover order.\n"
            "\n"
            "  -c, --config FILE  the YAML configuration (default %s)\n"
            "  -t, --test         check the configuration and every zone, print what was\n"
            "                     found or every error as file:line:column, and exit 0 or 1\n"
            "  -e, --explain NAME CLIENT-IP\n"
            "                     print what CLIENT-IP would get for NAME and why: the\n"
            "                     database record, the place, each policy step, the\n"
            "                     answer; CLIENT-IP/LEN (e.g. 198.51.100.0/24) is sent as\n"
            "                     EDNS Client Subnet, a bare address as the packet source\n"
            "      --ds ZONE      print the DS records of the signed ZONE's keys, for the\n"
            "                     parent zone's registrar\n"
            "  -d, --debug        log debug messages too\n"
            "  -h, --help         show this help and exit\n"
            "  -V, --version      show the version and exit\n"
            "\n"
            "Signals: SIGHUP reloads the configuration and zones (a zone that fails to\n"
            "load keeps serving its previous version); SIGTERM and SIGINT stop the server.\n",
            DEFAULT_CONFIG);
}

static int check_only(const char *path)
{
    struct diag d;
    diag_init(&d);
    struct view *v = loader_check(path, &d);
    fputs(d.text ? d.text : "", v ? stdout : stderr);
    if (v)
        printf("%s: configuration and %zu zone(s) OK\n", path, v->db->nzones);
    else
        fprintf(stderr, "%s: %u error(s)\n", path, d.errors ? d.errors : 1);
    view_free(v);
    diag_free(&d);
    return v ? 0 : 1;
}

static int explain_only(const char *path, const char *name, const char *client)
{
    struct diag d;
    diag_init(&d);
    struct view *v = loader_load(path, NULL, true, &d);
    int rc = 1;
    if (v) {
        diag_free(&d);
        diag_init(&d);
        rc = explain(v, name, client, &d) == 0 ? 0 : 1;
    }
    fputs(d.text ? d.text : "", rc ? stderr : stdout);
    view_free(v);
    diag_free(&d);
    return rc;
}

static int ds_only(const char *path, const char *zone)
{
    struct diag d;
    diag_init(&d);
    int rc = loader_print_ds(path, zone, stdout, &d);
    fputs(d.text ? d.text : "", stderr);
    diag_free(&d);
    return rc ? 1 : 0;
}

static int serve(const char *path)
{
    struct diag d;
    diag_init(&d);
    struct view *v = loader_load(path, NULL, true, &d);
    log_lines(d.text);
    diag_free(&d);
    if (!v) {
        log_err("%s: not starting; fix the errors above (meridiand -t -c %s checks)", path, path);
        return 1;
    }
    return daemon_run(path, v);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"test", no_argument, NULL, 't'},
        {"debug", no_argument, NULL, 'd'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"explain", required_argument, NULL, 'e'},
        {"ds", required_argument, NULL, 'D'},     {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    const char *explain_name = NULL, *ds_zone = NULL;
    bool test = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:tdhVe:", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            explain_name = optarg;
            break;
        case 'D':
            ds_zone = optarg;
            break;
        case 'c':
            path = optarg;
            break;
        case 't':
            test = true;
            break;
        case 'd':
            log_set_level(LOG_LVL_DEBUG);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("meridiand %s\n", PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (ds_zone)
        return ds_only(path, ds_zone);
    if (explain_name) {
        if (optind + 1 != argc) {
            fprintf(stderr, "meridiand: --explain takes NAME and CLIENT-IP\n");
            return 2;
        }
        return explain_only(path, explain_name, argv[optind]);
    }
    if (optind != argc) {
        fprintf(stderr, "meridiand: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return test ? check_only(path) : serve(path);
}
