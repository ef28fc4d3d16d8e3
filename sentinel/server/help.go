package server

// Help texts: Redis' layout (header, "SUBCOMMAND args" then indented lines,
// HELP footer), our wording.

func helpReply(r *reply, container string, lines []string) {
	r.array(len(lines) + 3)
	r.status(container + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		r.status(l)
	}
	r.status("HELP")
	r.status("    Print this help.")
}

var sentinelHelp = []string{
	"CKQUORUM <master-name>",
	"    Tell whether enough sentinels are reachable to reach the master's quorum",
	"    and to authorize a failover (a majority).",
	"CONFIG SET <param> <value> [<param> <value> ...]",
	"    Change global sentinel settings, all or none (resolve-hostnames,",
	"    announce-hostnames, announce-ip, announce-port, sentinel-user, sentinel-pass).",
	"CONFIG GET <param> [<param> ...]",
	"    Show the global sentinel settings whose names match any of the globs.",
	"DEBUG [<param> <value> ...]",
	"    Without arguments, list the timers in milliseconds; with pairs, change them",
	"    (not persisted).",
	"FAILOVER <master-name>",
	"    Fail over now, without asking the other sentinels for agreement.",
	"FLUSHCONFIG",
	"    Write the current state to the configuration file.",
	"GET-MASTER-ADDR-BY-NAME <master-name>",
	"    Return the ip and port of the current master of that group.",
	"INFO-CACHE <master-name> [<master-name> ...]",
	"    Return the last INFO output of each master and its replicas.",
	"IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
	"    Ask whether the master at ip:port is down here; with a runid other than *,",
	"    also request this sentinel's vote for that runid in that epoch.",
	"MASTER <master-name>",
	"    Show the state of one monitored master.",
	"MASTERS",
	"    Show the state of every monitored master.",
	"MONITOR <name> <ip> <port> <quorum>",
	"    Start monitoring a new master with the given name and quorum.",
	"MYID",
	"    Return this sentinel's id.",
	"PENDING-SCRIPTS",
	"    List the scripts that are queued or running.",
	"PROXIES",
	"    List the built-in proxy listeners (sentinel proxy) and their clients.",
	"REMOVE <master-name>",
	"    Stop monitoring a master and forget it.",
	"REPLICAS <master-name>",
	"    Show the replicas of a master.",
	"RESET <pattern>",
	"    Forget the replicas and sentinels of every master matching the glob",
	"    pattern and rediscover them.",
	"SENTINELS <master-name>",
	"    Show the other sentinels monitoring a master.",
	"SET <master-name> <option> <value> [<option> <value> ...]",
	"    Change options of a monitored master.",
	"SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
	"    Make this sentinel crash at the given failover step (for testing).",
}

var aclHelp = []string{
	"CAT [<category>]",
	"    List the categories, or the commands of one category.",
	"DELUSER <username> [<username> ...]",
	"    Remove users and disconnect the clients authenticated as them.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Tell whether the user could run the command.",
	"GENPASS [<bits>]",
	"    Return a random password of <bits> bits (default 256) as hex.",
	"GETUSER <username>",
	"    Show a user's rules.",
	"LIST",
	"    Show every user in ACL file format.",
	"SETUSER <username> [<rule> ...]",
	"    Create or change a user. Rules: on, off, ><password>, <<password>,",
	"    #<hash>, !<hash>, nopass, resetpass, reset, ~<pattern>, allkeys, &<pattern>,",
	"    allchannels, resetchannels, +@<category>, -@<category>, +<command>,",
	"    -<command>, +<command>|<subcommand>, allcommands, nocommands.",
	"USERS",
	"    List user names.",
	"WHOAMI",
	"    Return the user of this connection.",
}

var clientHelp = []string{
	"GETNAME",
	"    Return the name of this connection.",
	"ID",
	"    Return the id of this connection.",
	"INFO",
	"    Describe this connection.",
	"KILL <ip:port>",
	"    Close the connection from that address.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Close the connections matching all filters: ID <id>, ADDR <ip:port>,",
	"    LADDR <ip:port>, TYPE (NORMAL|PUBSUB), USER <username>, SKIPME (YES|NO).",
	"LIST [TYPE (NORMAL|PUBSUB)] [ID <id> ...]",
	"    Describe the connections.",
	"REPLY (ON|OFF|SKIP)",
	"    Turn replies on or off, or skip the reply to the next command.",
	"SETNAME <name>",
	"    Name this connection.",
	"TRACKING (ON|OFF) [...]",
	"    Accepted for client compatibility; a sentinel has no keys to track.",
}

var commandHelp = []string{
	"(no subcommand)",
	"    Describe every command.",
	"COUNT",
	"    Return the number of commands.",
	"DOCS [<command-name> ...]",
	"    Return the documentation of the given commands, or of all.",
	"INFO [<command-name> ...]",
	"    Describe the given commands, or all.",
	"LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
	"    Return the command names, optionally filtered.",
}
