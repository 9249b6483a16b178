/**
 * EX_CONFIG of sysexits.h: "something was found in an unconfigured or misconfigured state".
 * Both daemons exit with it when a restart cannot help (bad configuration, an unusable database),
 * and both systemd units list it in RestartPreventExitStatus.
 */
export const EXIT_CONFIG = 78;
