package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"

	"github.com/docker/go-plugins-helpers/authorization"

	"github.com/dockward/dockward/plugin/canary"
	"github.com/dockward/dockward/plugin/daemon"
)

// pluginClient speaks the plugin protocol on the plugin's unix socket.
func (e *env) pluginPost(ctx context.Context, path string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: e.opts.Timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", e.opts.PluginSocket)
		},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://plugin"+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.docker.plugins.v1.2+json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", path, resp.StatusCode, strings.TrimSpace(string(rb)))
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("%s answered what is not JSON (%v): %.200s", path, err, rb)
	}
	return nil
}

func checkPluginAnswers(ctx context.Context, e *env) Result {
	sock := e.opts.PluginSocket
	var act struct{ Implements []string }
	err := e.pluginPost(ctx, "/Plugin.Activate", struct{}{}, &act)
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fail(fmt.Sprintf("nothing at %s: the plugin is not running (or serves another socket)", sock),
			"start it: systemctl start dockward (journalctl -u dockward says why it stopped); a managed plugin: docker plugin enable <name>; or pass --socket/--config naming the plugin's socket")
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(fmt.Sprintf("%s exists but no process serves it (a stale socket): the plugin is down, and dockerd refuses every request while it is", sock),
			"restart it: systemctl restart dockward (journalctl -u dockward says why it stopped)")
	case err != nil:
		if h := permissionHint(err); h != "" {
			return fail(fmt.Sprintf("cannot connect to %s: %v", sock, err), h)
		}
		return fail(fmt.Sprintf("the plugin at %s did not answer Plugin.Activate: %v", sock, err),
			"check the plugin's log (journalctl -u dockward); restart it")
	}
	for _, i := range act.Implements {
		if i == "authz" {
			e.pluginUp = true
			return ok(fmt.Sprintf("%s answers Plugin.Activate: implements authz", sock))
		}
	}
	return fail(fmt.Sprintf("%s answers Plugin.Activate with %v, not authz: it is not an authorization plugin", sock, act.Implements),
		"point --socket (socket: in the config) at dockward's socket")
}

var ruleIDRe = regexp.MustCompile(`\[([a-z][a-z0-9_]*)\]`)

func checkPluginVerdicts(ctx context.Context, e *env) Result {
	if !e.pluginUp {
		return skip("the plugin does not answer (plugin answers)")
	}
	var read authorization.Response
	err := e.pluginPost(ctx, "/AuthZPlugin.AuthZReq", authorization.Request{RequestMethod: "GET", RequestURI: "/_ping"}, &read)
	if err != nil {
		return fail("the plugin did not judge a harmless read (GET /_ping): "+err.Error(), "check the plugin's log (journalctl -u dockward)")
	}
	if !read.Allow {
		return fail("the plugin denies a harmless read (GET /_ping): "+firstLine(read.Msg+read.Err),
			"every docker command fails like this: check the policy (dockward policy test) and the plugin's log")
	}
	name := canary.NewName()
	var create authorization.Response
	err = e.pluginPost(ctx, "/AuthZPlugin.AuthZReq", authorization.Request{
		RequestMethod: "POST", RequestURI: "/containers/create?name=" + name,
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: canary.Body(),
	}, &create)
	if err != nil {
		return fail("the plugin did not judge a privileged create: "+err.Error(), "check the plugin's log (journalctl -u dockward)")
	}
	switch {
	case create.Allow:
		return fail("the plugin ALLOWS a privileged container ("+name+"): the policy in force does not deny it",
			"check no_privileged's mode and the exemptions in data.json (dockward check -- docker run --privileged IMAGE shows why)")
	case create.Err != "":
		return fail("the plugin failed on a privileged create (it is refused, as an internal error): "+firstLine(create.Err),
			"check the plugin's log (journalctl -u dockward) for that decision")
	}
	rules := ruleIDRe.FindAllStringSubmatch(create.Msg, -1)
	ids := make([]string, 0, len(rules))
	for _, m := range rules {
		ids = append(ids, m[1])
	}
	return ok(fmt.Sprintf("allows GET /_ping; denies a privileged create (%s): [%s]", name, strings.Join(ids, " ")))
}

func checkEngine(ctx context.Context, e *env) Result {
	if e.dockErr != nil {
		return fail(e.dockErr.Error(), "set docker_host in the config (or --docker-host) to unix:///path or tcp://host:port")
	}
	status, body, err := e.docker.Do(ctx, http.MethodGet, "/version", nil)
	if err != nil {
		e.daemonDown = true
		fix := permissionHint(err)
		if fix == "" {
			fix = "is dockerd running (systemctl status docker)? Is docker_host (--docker-host) the daemon dockward guards?"
		}
		return fail(fmt.Sprintf("dockerd at %s does not answer: %v", e.opts.DockerHost, err), fix)
	}
	var v struct{ Version, APIVersion string }
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil {
		return fail(fmt.Sprintf("dockerd at %s answered GET /version with %d: %s", e.opts.DockerHost, status, firstLine(string(body))),
			"a 403 here means the plugin denies reads: check the policy; otherwise check dockerd's log")
	}
	found := fmt.Sprintf("Docker Engine %s (API %s)", v.Version, v.APIVersion)
	if !daemon.VersionKnown(v.Version) {
		return warn(found+": the version is not a release number, so which authorization-plugin CVEs apply cannot be told",
			"run a released engine, or check its source for the fixes of CVE-2024-41110 and CVE-2026-34040")
	}
	if w := daemon.KnownBypass(v.Version); w != "" {
		return warn(found+" has a known authorization-plugin bypass that no plugin can close: "+w,
			"upgrade the Docker Engine to a fixed release")
	}
	return ok(found + ": no known authorization-plugin bypass")
}

func checkConfigured(ctx context.Context, e *env) Result {
	if e.dockErr != nil || e.daemonDown {
		return skip("dockerd does not answer (engine version)")
	}
	status, body, err := e.docker.Do(ctx, http.MethodGet, "/info", nil)
	if err != nil {
		return fail(fmt.Sprintf("dockerd at %s does not answer GET /info: %v", e.opts.DockerHost, err), "see engine version")
	}
	var info struct {
		Plugins struct{ Authorization []string }
	}
	if status != http.StatusOK || json.Unmarshal(body, &info) != nil {
		return fail(fmt.Sprintf("dockerd answered GET /info with %d: %s", status, firstLine(string(body))),
			"a 403 here means the plugin denies reads: check the policy")
	}
	list := info.Plugins.Authorization
	for _, n := range list {
		if (canary.Result{Plugin: n}).ByPlugin(e.opts.PluginName) {
			e.configured = true
			return ok(fmt.Sprintf("dockerd lists %s in its authorization plugins (configured; \"dockerd enforces\" tells whether requests really go through it)", n))
		}
	}
	have := "none"
	if len(list) > 0 {
		have = strings.Join(list, ", ")
	}
	return fail(fmt.Sprintf("dockerd's authorization plugins: %s — %s is not configured, so dockerd never asks it", have, e.opts.PluginName),
		fmt.Sprintf("dockward daemon-config enable --name %s && systemctl reload docker (or run dockerd with --authorization-plugin=%s); if the plugin has another name, pass --plugin-name", e.opts.PluginName, e.opts.PluginName))
}

func checkEnforcing(ctx context.Context, e *env) Result {
	if e.dockErr != nil || e.daemonDown {
		return skip("dockerd does not answer (engine version): enforcement cannot be tested")
	}
	r := canary.Send(ctx, e.docker)
	s := r.Summary(e.opts.PluginName)
	switch r.Outcome {
	case canary.Enforced:
		if r.ByPlugin(e.opts.PluginName) {
			return ok(s + "; nothing was created")
		}
		return fail(s, "dockerd enforces through another plugin: pass --plugin-name "+r.Plugin+" if that is dockward, else configure dockward (dockward daemon-config enable)")
	case canary.PluginFailed:
		return fail(s, "the plugin is configured but does not answer: see plugin answers, then journalctl -u dockward; to unlock Docker meanwhile: dockward daemon-config disable && systemctl reload docker")
	case canary.NotEnforcing:
		if e.configured {
			return fail(s+" — dockerd lists the plugin, so the plugin ALLOWED it",
				"the policy in force does not deny privileged containers: check no_privileged's mode and the exemptions in data.json")
		}
		return fail(s, fmt.Sprintf("configure it: dockward daemon-config enable --name %s && systemctl reload docker (or dockerd --authorization-plugin=%s), then run doctor again", e.opts.PluginName, e.opts.PluginName))
	case canary.Created:
		return fail(s, "dockerd does not enforce: configure the plugin (dockward daemon-config enable) and reload dockerd")
	case canary.Unreachable:
		fix := permissionHint(errors.New(r.Message))
		if strings.Contains(r.Message, "permission denied") {
			fix = "run dockward doctor as root (sudo dockward doctor)"
		}
		if fix == "" {
			fix = "see engine version"
		}
		return fail(s, fix)
	}
	return fail(s, "check dockerd's log for that request")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
