package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed877ff415/sentinel/sentinel/acl"
	"github.com/seed877ff415/sentinel/sentinel/tlsconf"
	"github.com/seed877ff415/sentinel/sentinel/view"
)

// Messages of Redis 7.0 where it has one; ours follow its style.
const (
	msgUnbalanced     = "Unbalanced quotes in configuration line"
	msgBadDirective   = "Bad directive or wrong number of arguments"
	msgWrongArgs      = "wrong number of arguments"
	msgNotInteger     = "argument couldn't be parsed into an integer"
	msgPortRange      = "argument must be between 0 and 65535 inclusive"
	msgYesNo          = "argument must be 'yes' or 'no'"
	msgInclude        = "include is not supported: put the directives in this file"
	msgUnrecognized   = "Unrecognized sentinel configuration statement."
	msgNoMaster       = "No such master with specified name."
	msgQuorum         = "Quorum must be 1 or greater."
	msgDupMaster      = "Duplicate master name."
	msgDupReplica     = "Duplicate hostname and port for replica."
	msgDupSentinel    = "Duplicate runid for sentinel."
	msgResolve        = "Can't resolve instance hostname."
	msgPort           = "Invalid port number."
	msgTime           = "negative or zero time parameter."
	msgNegTime        = "negative time parameter."
	msgValue          = "value is not an integer or out of range."
	msgMyID           = "Malformed Sentinel id in myid option."
	msgRename         = "Same command renamed multiple times with rename-command."
	msgNotifyScript   = "Notification script seems non existing or non executable."
	msgReconfigScript = "Client reconfiguration script seems non existing or non executable."
	msgGossipKey      = "Invalid gossip key: expected base64 of a 16, 24 or 32 byte key."
	msgDupGossipKey   = "Duplicate gossip key."
	msgHostPort       = "Invalid address: expected host:port."
	msgWebhook        = "Invalid webhook URL: expected an http or https URL."
	msgTLS            = "not supported: refusing to start rather than ignore a TLS setting (docs/tls.md)"
	msgPortZero       = "port 0 needs a tls-port: nothing would listen"
	msgPortZeroSecret = "port 0 needs a gossip secret (sentinel gossip-key, sentinel-pass or requirepass): " +
		"gossip shares the TLS port and must not travel in the clear"
	warnTLSIgnored  = "TLS directive ignored: Go's crypto/tls has no such setting (docs/tls.md)"
	msgDupUser      = "Duplicate user found."
	msgProxyRole    = "Invalid proxy role: expected master or replicas."
	warnIgnored     = "directive ignored in sentinel mode"
	warnOldSentinel = "known-sentinel without run id ignored"
)

// shape describes a `sentinel <keyword>` line.
type shape struct {
	min, max   int  // argument count including the keyword, like Redis' argc
	perMaster  bool // the first argument names a master
	repeatable bool // several lines per master (or globally) make a list
	preMonitor bool // applied before monitor lines (Redis' first pass)
}

var shapes = map[string]shape{
	"monitor":                         {min: 5, max: 5, perMaster: true},
	"down-after-milliseconds":         {min: 3, max: 3, perMaster: true},
	"failover-timeout":                {min: 3, max: 3, perMaster: true},
	"parallel-syncs":                  {min: 3, max: 3, perMaster: true},
	"notification-script":             {min: 3, max: 3, perMaster: true},
	"client-reconfig-script":          {min: 3, max: 3, perMaster: true},
	"auth-pass":                       {min: 3, max: 3, perMaster: true},
	"auth-user":                       {min: 3, max: 3, perMaster: true},
	"master-reboot-down-after-period": {min: 3, max: 3, perMaster: true},
	"config-epoch":                    {min: 3, max: 3, perMaster: true},
	"leader-epoch":                    {min: 3, max: 3, perMaster: true},
	"known-replica":                   {min: 4, max: 4, perMaster: true, repeatable: true},
	"known-slave":                     {min: 4, max: 4, perMaster: true, repeatable: true},
	"known-sentinel":                  {min: 4, max: 5, perMaster: true, repeatable: true},
	"rename-command":                  {min: 4, max: 4, perMaster: true, repeatable: true},
	"notification-webhook":            {min: 3, max: 3, perMaster: true, repeatable: true},
	"fence-writes":                    {min: 3, max: 3, perMaster: true},
	"proxy":                           {min: 4, max: 4, perMaster: true, repeatable: true},
	"proxy-maxclients":                {min: 3, max: 3, perMaster: true},
	"myid":                            {min: 2, max: 2, preMonitor: true},
	"current-epoch":                   {min: 2, max: 2, preMonitor: true},
	"announce-ip":                     {min: 2, max: 2, preMonitor: true},
	"announce-port":                   {min: 2, max: 2, preMonitor: true},
	"deny-scripts-reconfig":           {min: 2, max: 2, preMonitor: true},
	"resolve-hostnames":               {min: 2, max: 2, preMonitor: true},
	"announce-hostnames":              {min: 2, max: 2, preMonitor: true},
	"sentinel-user":                   {min: 2, max: 2, preMonitor: true},
	"sentinel-pass":                   {min: 2, max: 2, preMonitor: true},
	"gossip-port":                     {min: 2, max: 2},
	"gossip-key":                      {min: 2, max: 2, repeatable: true},
	"gossip-join":                     {min: 2, max: 2, repeatable: true},
	"gossip-require-secret":           {min: 2, max: 2},
	"metrics-addr":                    {min: 2, max: 2},
}

// entry is a queued `sentinel` line; args[0] is the lower-cased keyword.
type entry struct {
	line int
	text string
	args []string
}

type parser struct {
	file    string
	cfg     *Config
	masters map[string]*Master
	errs    []*LineError
	seen    map[string]lineRef // last line of each generic directive, for checks across lines
}

type lineRef struct {
	line int
	text string
}

// Parse parses the content of the config file at path. Like Redis, which
// chdir()s as it reads `dir`, it resolves a relative dir against the
// working directory (then the previous dir) and checks that it exists, and
// checks that scripts are executable; otherwise it is pure. On failure the
// error joins one *LineError per bad line, in line order.
func Parse(path string, data []byte) (*Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		wd = filepath.Dir(path)
	}
	return parseIn(path, data, wd)
}

// parseIn parses with dir as the working directory.
func parseIn(path string, data []byte, dir string) (*Config, error) {
	c := Default()
	c.Path, c.Dir = path, dir
	p := &parser{file: path, cfg: c, masters: map[string]*Master{}, seen: map[string]lineRef{}}

	// Sentinel lines wait until every generic line (dir above all) is
	// known, then run in Redis' three passes so per-master lines may come
	// before their monitor line.
	var pre, monitors, post []entry
	for i, raw := range strings.Split(string(data), "\n") {
		text := strings.Trim(raw, " \t\r\n")
		if text == "" || text[0] == '#' {
			continue
		}
		n := i + 1
		args, err := splitArgs(text)
		if err != nil {
			directive, _, _ := strings.Cut(text, " ")
			p.fail(n, text, strings.ToLower(directive), msgUnbalanced)
			continue
		}
		if len(args) == 0 { // only \v or \f: blank to Redis too
			continue
		}
		name := strings.ToLower(args[0])
		if name != "sentinel" {
			p.generic(n, text, name, args[1:])
			continue
		}
		if len(args) < 2 {
			p.fail(n, text, name, msgUnrecognized)
			continue
		}
		e := entry{line: n, text: text, args: append([]string{strings.ToLower(args[1])}, args[2:]...)}
		switch {
		case e.args[0] == "monitor":
			monitors = append(monitors, e)
		case shapes[e.args[0]].preMonitor:
			pre = append(pre, e)
		default:
			post = append(post, e)
		}
	}
	for _, pass := range [][]entry{pre, monitors, post} {
		for _, e := range pass {
			if msg := p.sentinel(e); msg != "" {
				p.fail(e.line, e.text, "sentinel "+e.args[0], msg)
			}
		}
	}
	p.checkTLS()
	if c.LogFile != "" {
		c.LogFile = p.abs(c.LogFile)
	}
	if c.PidFile != "" {
		c.PidFile = p.abs(c.PidFile)
	}

	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *LineError) int { return a.Line - b.Line })
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (p *parser) fail(line int, text, directive, msg string) {
	p.errs = append(p.errs, &LineError{File: p.file, Line: line, Text: text, Directive: directive, Msg: msg})
}

func (p *parser) warn(line int, text, msg string) {
	p.cfg.Warnings = append(p.cfg.Warnings, fmt.Sprintf("%s:%d: '%s': %s", p.file, line, text, msg))
}

// abs resolves a path the way the sentinel sees it after `dir`.
func (p *parser) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(p.cfg.Dir, path)
}

// generic handles the redis.conf directives outside `sentinel`.
func (p *parser) generic(line int, text, name string, args []string) {
	p.seen[name] = lineRef{line, text}
	c := p.cfg
	one := func() bool {
		if len(args) != 1 {
			p.fail(line, text, name, msgWrongArgs)
			return false
		}
		return true
	}
	yesNo := func(dst *bool) {
		if !one() {
			return
		}
		v, ok := parseYesNo(args[0])
		if !ok {
			p.fail(line, text, name, msgYesNo)
			return
		}
		*dst = v
	}
	intIn := func(lo, hi int64, msgRange string, dst *int) {
		if !one() {
			return
		}
		v, err := strconv.ParseInt(args[0], 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			p.fail(line, text, name, msgNotInteger)
		case err != nil || v < lo || v > hi:
			p.fail(line, text, name, msgRange)
		default:
			*dst = int(v)
		}
	}
	switch name {
	case "port":
		intIn(0, 65535, msgPortRange, &c.Port)
	case "maxclients":
		intIn(1, 1<<31-1, "argument must be between 1 and 2147483647 inclusive", &c.MaxClients)
	case "bind":
		if len(args) == 0 {
			p.fail(line, text, name, msgWrongArgs)
			return
		}
		c.Bind = slices.Clone(args)
	case "dir":
		if !one() {
			return
		}
		// Successive dir lines chain like Redis' chdir.
		dir := p.abs(args[0])
		st, err := os.Stat(dir)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			p.fail(line, text, name, fmt.Sprintf("cannot change to directory %s: %v", dir, err))
		case !st.IsDir():
			p.fail(line, text, name, fmt.Sprintf("cannot change to directory %s: not a directory", dir))
		default:
			c.Dir = dir
		}
	case "logfile":
		if one() {
			c.LogFile = args[0]
		}
	case "pidfile":
		if one() {
			c.PidFile = args[0]
		}
	case "requirepass":
		if one() {
			c.RequirePass = args[0]
		}
	case "daemonize":
		yesNo(&c.Daemonize)
	case "protected-mode":
		yesNo(&c.ProtectedMode)
	case "include":
		p.fail(line, text, name, msgInclude)
	case "user":
		p.user(line, text, args)
	case "tls-port":
		intIn(0, 65535, msgPortRange, &c.TLS.Port)
	case "tls-replication":
		yesNo(&c.TLS.Replication)
	case "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
		"tls-session-cache-timeout", "tls-dh-params-file":
		if one() {
			p.warn(line, text, warnTLSIgnored)
		}
	case "tls-cluster":
		p.warn(line, text, warnIgnored)
	default:
		if f := c.TLS.Field(name); f != nil {
			if one() {
				v, err := tlsconf.Value(name, args[0])
				if err != nil {
					p.fail(line, text, name, err.Error())
					return
				}
				*f = v
			}
			return
		}
		if strings.HasPrefix(name, "tls-") {
			p.fail(line, text, name, msgTLS)
			return
		}
		if !redisDirectives[name] {
			p.fail(line, text, name, msgBadDirective)
			return
		}
		p.warn(line, text, warnIgnored)
	}
}

// sentinel applies one `sentinel` line and returns Redis' message for a
// bad one, or "".
func (p *parser) sentinel(e entry) string {
	a := e.args
	kw := a[0]
	sh, ok := shapes[kw]
	if !ok || len(a) < sh.min || len(a) > sh.max {
		return msgUnrecognized
	}
	if kw == "known-sentinel" && len(a) == 4 {
		p.warn(e.line, e.text, warnOldSentinel)
		return ""
	}
	c := p.cfg
	if kw == "monitor" {
		return p.monitor(a[1], a[2], a[3], a[4])
	}
	var m *Master
	if sh.perMaster {
		if m = p.masters[a[1]]; m == nil {
			return msgNoMaster
		}
	}
	switch kw {
	case "down-after-milliseconds", "failover-timeout":
		d, ok := parseMillis(a[2])
		if !ok || d <= 0 {
			return msgTime
		}
		if kw == "failover-timeout" {
			m.FailoverTimeout = d
		} else {
			m.DownAfter = d
		}
	case "parallel-syncs":
		n, err := strconv.Atoi(a[2])
		if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
			return msgValue
		}
		m.ParallelSyncs = n
	case "notification-script", "client-reconfig-script":
		// Kept as written: the daemon runs in dir, as Redis does.
		path := a[2]
		if !isExecutable(p.abs(path)) {
			if kw == "notification-script" {
				return msgNotifyScript
			}
			return msgReconfigScript
		}
		if kw == "notification-script" {
			m.NotificationScript = path
		} else {
			m.ClientReconfigScript = path
		}
	case "auth-pass":
		m.AuthPass = a[2]
	case "auth-user":
		m.AuthUser = a[2]
	case "master-reboot-down-after-period":
		d, ok := parseMillis(a[2])
		if !ok {
			return msgValue
		}
		if d < 0 {
			return msgNegTime
		}
		m.MasterRebootDownAfter = d
	case "config-epoch", "leader-epoch":
		v, err := strconv.ParseUint(a[2], 10, 64)
		if err != nil {
			return msgValue
		}
		if kw == "leader-epoch" {
			m.LeaderEpoch = v
			break
		}
		m.ConfigEpoch = v
		c.CurrentEpoch = max(c.CurrentEpoch, v)
	case "known-replica", "known-slave":
		port, ok := parsePort(a[3])
		if !ok {
			return msgPort
		}
		if !p.hostOK(a[2]) {
			return msgResolve
		}
		r := Addr{Host: a[2], Port: port}
		if slices.Contains(m.KnownReplicas, r) {
			return msgDupReplica
		}
		m.KnownReplicas = append(m.KnownReplicas, r)
	case "known-sentinel":
		port, ok := parsePort(a[3])
		if !ok {
			return msgPort
		}
		if !p.hostOK(a[2]) {
			return msgResolve
		}
		if slices.ContainsFunc(m.KnownSentinels, func(s KnownSentinel) bool { return s.RunID == a[4] }) {
			return msgDupSentinel
		}
		m.KnownSentinels = append(m.KnownSentinels, KnownSentinel{Host: a[2], Port: port, RunID: a[4]})
	case "rename-command":
		old := strings.ToLower(a[2])
		if _, dup := m.RenameCommands[old]; dup {
			return msgRename
		}
		m.RenameCommands[old] = a[3]
	case "notification-webhook":
		if !validWebhook(a[2]) {
			return msgWebhook
		}
		m.Webhooks = append(m.Webhooks, a[2])
	case "fence-writes":
		v, ok := parseYesNo(a[2])
		if !ok {
			return "Please specify yes or no for the fence-writes option."
		}
		m.NoFenceWrites = !v
	case "proxy":
		if msg := ValidProxy(a[2], a[3]); msg != "" {
			return msg
		}
		m.Proxies = view.SetProxy(m.Proxies, a[2], a[3])
	case "proxy-maxclients":
		n, err := strconv.Atoi(a[2])
		if err != nil || n <= 0 || n > math.MaxInt32 {
			return msgValue
		}
		m.ProxyMaxClients = n
	case "myid":
		if len(a[1]) != 40 || !isHexString(a[1]) {
			return msgMyID
		}
		c.MyID = a[1]
	case "current-epoch":
		v, err := strconv.ParseUint(a[1], 10, 64)
		if err != nil {
			return msgValue
		}
		c.CurrentEpoch = max(c.CurrentEpoch, v)
	case "announce-ip":
		c.AnnounceIP = a[1]
	case "announce-port", "gossip-port":
		port, ok := parsePort(a[1])
		if !ok {
			return msgPort
		}
		if kw == "gossip-port" {
			c.GossipPort = port
		} else {
			c.AnnouncePort = port
		}
	case "deny-scripts-reconfig", "resolve-hostnames", "announce-hostnames":
		v, ok := parseYesNo(a[1])
		switch {
		case !ok && kw == "deny-scripts-reconfig":
			return "Please specify yes or no for the deny-scripts-reconfig options."
		case !ok:
			return "Please specify yes or no for the " + kw + " option."
		case kw == "deny-scripts-reconfig":
			c.DenyScriptsReconfig = v
		case kw == "resolve-hostnames":
			c.ResolveHostnames = v
		default:
			c.AnnounceHostnames = v
		}
	case "gossip-require-secret":
		v, ok := parseYesNo(a[1])
		if !ok {
			return "Please specify yes or no for the gossip-require-secret option."
		}
		c.GossipRequireSecret = v
	case "sentinel-user":
		c.SentinelUser = a[1]
	case "sentinel-pass":
		c.SentinelPass = a[1]
	case "gossip-key":
		k, err := base64.StdEncoding.DecodeString(a[1])
		if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			return msgGossipKey
		}
		if slices.Contains(c.GossipKeys, a[1]) {
			return msgDupGossipKey
		}
		c.GossipKeys = append(c.GossipKeys, a[1])
	case "gossip-join":
		if !view.ValidHostPort(a[1], true) {
			return msgHostPort
		}
		c.GossipJoin = append(c.GossipJoin, a[1])
	case "metrics-addr":
		if !view.ValidHostPort(a[1], false) {
			return msgHostPort
		}
		c.MetricsAddr = a[1]
	}
	return ""
}

// user adds a `user <name> [rule ...]` line. It starts from a new user, as
// ACL SETUSER does, or for the default user from "reset", as Redis does, so
// a rendered user loads back the same.
func (p *parser) user(line int, text string, args []string) {
	if len(args) == 0 {
		p.fail(line, text, "user", msgBadDirective)
		return
	}
	if err := acl.ValidName(args[0]); err != nil {
		p.fail(line, text, "user", err.Error())
		return
	}
	if slices.ContainsFunc(p.cfg.Users, func(u *acl.User) bool { return u.Name == args[0] }) {
		p.fail(line, text, "user", msgDupUser)
		return
	}
	u, bad, err := userFromArgs(args)
	if err != nil {
		p.fail(line, text, "user", fmt.Sprintf("Error in user declaration '%s': %v", bad, err))
		return
	}
	p.cfg.Users = append(p.cfg.Users, u)
}

// userFromArgs builds the user of a `user` line's arguments (name, rules).
func userFromArgs(args []string) (*acl.User, string, error) {
	rules := args[1:]
	if args[0] == "default" {
		rules = append([]string{"reset"}, rules...)
	}
	return acl.NewUser(args[0]).SetRules(rules)
}

// monitor checks in Redis' order: quorum, port, address, duplicate.
func (p *parser) monitor(name, host, portArg, quorumArg string) string {
	quorum, err := strconv.Atoi(quorumArg)
	if err != nil || quorum <= 0 || quorum > math.MaxInt32 {
		return msgQuorum
	}
	port, ok := parsePort(portArg)
	if !ok {
		return msgPort
	}
	if !p.hostOK(host) {
		return msgResolve
	}
	if p.masters[name] != nil {
		return msgDupMaster
	}
	m := NewMaster(name, host, port, quorum)
	p.masters[name] = m
	p.cfg.Masters = append(p.cfg.Masters, m)
	return ""
}

// hostOK accepts an IP, or with resolve-hostnames a well-formed hostname.
// Names are not resolved here: the sentinel resolves them when it
// connects, so a name that does not resolve yet is not a config error.
func (p *parser) hostOK(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return p.cfg.ResolveHostnames && view.ValidHostname(host)
}

func validWebhook(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func parsePort(s string) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 65535 {
		return 0, false
	}
	return v, true
}

// parseMillis reads milliseconds that fit a time.Duration.
func parseMillis(s string) (time.Duration, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	const limit = math.MaxInt64 / int64(time.Millisecond)
	if err != nil || v > limit || v < -limit {
		return 0, false
	}
	return time.Duration(v) * time.Millisecond, true
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isExecutable stands in for Redis' access(X_OK): a regular file with an
// execute bit.
func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// checkTLS checks the TLS directives together, once dir is known: what
// port 0 needs, and every file read and matched as the daemon will.
func (p *parser) checkTLS() {
	c := p.cfg
	failAt := func(directive, msg string) {
		r, ok := p.seen[directive]
		if !ok { // a client-pair error from the server pair it defaults to
			directive = strings.Replace(directive, "client-", "", 1)
			r = p.seen[directive]
		}
		p.fail(r.line, r.text, directive, msg)
	}
	if c.Port == 0 {
		switch {
		case c.TLS.Port == 0:
			failAt("port", msgPortZero)
		case len(c.GossipKeys) == 0 && c.SentinelPass == "" && c.RequirePass == "":
			failAt("port", msgPortZeroSecret)
		}
	}
	if !c.TLS.Enabled() {
		return
	}
	var te *tlsconf.Error
	if err := c.TLS.Check(c.Port); errors.As(err, &te) {
		failAt(te.Directive, te.Err.Error())
		return
	}
	for _, f := range []*string{&c.TLS.CertFile, &c.TLS.KeyFile, &c.TLS.ClientCertFile, &c.TLS.ClientKeyFile,
		&c.TLS.CAFile, &c.TLS.CADir} {
		if *f != "" {
			*f = p.abs(*f)
		}
	}
	if _, err := tlsconf.Load(c.TLS); err != nil {
		if errors.As(err, &te) {
			failAt(te.Directive, te.Err.Error())
			return
		}
		failAt("tls-port", err.Error())
	}
}
