package doctor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dockward/dockward/plugin/audit"
	"github.com/dockward/dockward/plugin/canary"
)

// pickUser is the caller the identity check runs as: --as-user, else the
// user who ran sudo, else the first member of the docker group that is not
// root. "" when there is none.
func pickUser(asUser, groupFile string) (string, string) {
	if asUser != "" {
		return asUser, "--as-user"
	}
	if s := os.Getenv("SUDO_USER"); s != "" && s != "root" {
		return s, "$SUDO_USER"
	}
	for _, m := range groupMembers(groupFile, "docker") {
		if m != "root" {
			return m, "the docker group"
		}
	}
	return "", ""
}

// groupMembers reads a group's member list from an /etc/group file.
func groupMembers(file, group string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ":")
		if len(fs) == 4 && fs[0] == group && fs[3] != "" {
			return strings.Split(fs[3], ",")
		}
	}
	return nil
}

// credential is the uid, gid and groups of a user from the user database.
func credential(u *user.User) (*syscall.Credential, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid %q: %w", u.Gid, err)
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", u.Username, err)
	}
	var groups []uint32
	for _, g := range ids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err == nil {
			groups = append(groups, uint32(n))
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}, nil
}

// probeAs runs the canary as u through host: a child process (this binary's
// hidden `doctor probe`) with u's uid, gid and groups, so that the broker
// reads u from the kernel (SO_PEERCRED) as it would for u's docker CLI.
func probeAs(ctx context.Context, o Options, cred *syscall.Credential, host string) (canary.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*o.Timeout)
	defer cancel()
	args := append(append([]string{}, o.ExeArgs...), "--docker-host", host)
	cmd := exec.CommandContext(ctx, o.Exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return canary.Result{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(errOut.String()))
	}
	var r canary.Result
	if err := json.NewDecoder(&out).Decode(&r); err != nil {
		return canary.Result{}, fmt.Errorf("the probe printed what is not a result (%v): %.200s", err, out.String())
	}
	return r, nil
}

// auditUser finds the decision's record in the audit log and returns the
// user it names; it waits briefly for the record (written before the
// plugin answers, so it is normally there at once).
func auditUser(ctx context.Context, path, decisionID string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	errFound := errors.New("found")
	for {
		var found *audit.Record
		files, err := audit.Files(path)
		if err == nil {
			err = audit.Scan(ctx, files, audit.Filter{}, func(r *audit.Record) error {
				if r.DecisionID == decisionID {
					found = r
					return errFound
				}
				return nil
			}, func(audit.BadLine) {})
		}
		if found != nil {
			return found.User, nil
		}
		if err != nil && !errors.Is(err, errFound) {
			return "", err
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no record of decision %s in %s", decisionID, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkCaller(ctx context.Context, e *env) Result {
	id := e.opts.Identity
	name, from := pickUser(e.opts.AsUser, e.opts.GroupFile)
	if name == "" {
		return skip("no non-root caller to try: no --as-user, no $SUDO_USER, and the docker group has no members; pass --as-user USER (a member of the docker group)")
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fail(fmt.Sprintf("user %s (from %s): %v", name, from, err), "pass --as-user with an existing user in the docker group")
	}
	if u.Uid == "0" {
		return fail(fmt.Sprintf("user %s (from %s) is root: the check needs a non-root caller", name, from), "pass --as-user with a non-root user in the docker group")
	}
	cred, err := credential(u)
	if err != nil {
		return fail(err.Error(), "pass --as-user with another user")
	}
	r, err := probeAs(ctx, e.opts, cred, "unix://"+id.Socket)
	if err != nil {
		return fail(fmt.Sprintf("could not send the canary as %s through %s: %v", name, id.Socket, err),
			"the check runs this dockward binary as "+name+": it must be executable by that user (installed in /usr/local/bin)")
	}
	if r.Outcome != canary.Enforced || r.DecisionID == "" {
		fix := "the broker socket must be served by dockward broker, forwarding to dockerd with enforcement on (systemctl status dockward-broker)"
		if strings.Contains(r.Message, "permission denied") {
			fix = name + " cannot open " + id.Socket + ": it must be root:docker 0660 and " + name + " in the docker group"
		}
		return fail(fmt.Sprintf("as %s through %s: %s", name, id.Socket, r.Summary(e.opts.PluginName)), fix)
	}
	seen, err := auditUser(ctx, e.opts.AuditLog, r.DecisionID, 3*time.Second)
	if err != nil {
		return fail(fmt.Sprintf("the canary sent as %s was denied (decision %s), but: %v", name, r.DecisionID, err),
			"the audit log must be the plugin's (audit_log in the config, --audit-log)")
	}
	switch seen {
	case name:
		return ok(fmt.Sprintf("a canary sent as %s (uid %s, from %s) through %s was denied and audited as user %q (decision %s)", name, u.Uid, from, id.Socket, seen, r.DecisionID))
	case "":
		return fail(fmt.Sprintf("a canary sent as %s through %s was audited with no user (decision %s): dockerd received no identity", name, id.Socket, r.DecisionID),
			"the broker must forward to dockerd's TLS listener (identity.upstream) with a client certificate; is "+id.Socket+" the broker's socket, or dockerd's own?")
	}
	return fail(fmt.Sprintf("a canary sent as %s through %s was audited as user %q (decision %s): the broker vouches for the wrong name", name, id.Socket, seen, r.DecisionID),
		"the broker must name the peer by its uid's passwd entry: report this as a dockward bug")
}
