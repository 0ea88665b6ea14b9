/* itc: command dispatcher. Add a command by adding a line to the table. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_snap_main(int argc, char **argv);
int cmd_record_main(int argc, char **argv);
int cmd_replay_main(int argc, char **argv);
int cmd_info_main(int argc, char **argv);
int cmd_restore_main(int argc, char **argv);
int cmd_debug_main(int argc, char **argv);
int cmd_inject_main(int argc, char **argv);

static const CliCommand commands[] = {
    {"snap", "snapshot store: ingest, export, ls, show, verify, rm, gc, stats, diff",
     cmd_snap_main},
    {"record", "record a run of the flight software into a bundle", cmd_record_main},
    {"replay", "re-execute a bundle and verify UART output and final state", cmd_replay_main},
    {"debug", "reverse-debug a bundle with gdb-multiarch (QEMU replay + GDB stub)", cmd_debug_main},
    {"info", "show what a bundle holds: sizes, checkpoints, QEMU compatibility", cmd_info_main},
    {"restore", "start a live QEMU from a checkpoint or instruction count of a bundle",
     cmd_restore_main},
    {"inject", "inject a fault into a running recording or restore (QMP)", cmd_inject_main},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: itc <command> [args]\n\ncommands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_BAD_INPUT : CLI_OK;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    usage(stderr);
    return cli_error("unknown command '%s'", argv[1]);
}
