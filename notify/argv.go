package notify

import "strconv"

// NotificationArgv is the notification-script command line for e, or nil when
// the event does not run the script: only warning-level events tied to a
// master group do, so ±tilt and -script-* never re-trigger it.
func NotificationArgv(script string, e Event) []string {
	if script == "" || e.Level != LevelWarning || e.Master == "" {
		return nil
	}
	return []string{script, e.Channel(), e.Payload()}
}

// ReconfigArgv is the client-reconfig-script command line; role is "leader"
// at promotion and "observer" on a hello-driven switch. The literal "start"
// is the only state Redis Sentinel ever passes.
func ReconfigArgv(script, master, role, fromIP string, fromPort int, toIP string, toPort int) []string {
	return []string{script, master, role, "start", fromIP, strconv.Itoa(fromPort), toIP, strconv.Itoa(toPort)}
}
