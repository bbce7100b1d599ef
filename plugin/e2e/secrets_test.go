//go:build e2e

package e2e

import (
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secretStep is one request that carries a secret, sent by the real CLI
// (or raw, where the CLI cannot send it). marker is a non-secret string the
// plugin's input line for it holds (proof that the plugin saw the request);
// none of secrets may appear in the plugin's log (at debug level: every
// input) or in the audit log. Whether the request is allowed does not
// matter here.
type secretStep struct {
	name    string
	do      func(t *testing.T)
	marker  string
	secrets []string
	check   func(t *testing.T, inputLine string) // what the daemon got, or a report
}

func (hs *harness) runSecretSteps(t *testing.T, steps []secretStep) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			off, aoff := logSize(t, hs.pluginLog), logSize(t, hs.auditLog)
			s.do(t)
			line := waitForLog(t, hs.pluginLog, off, s.marker, 10*time.Second)
			if !strings.Contains(line, "input") {
				t.Errorf("the plugin logged no input holding %q; the line: %s", s.marker, line)
			}
			logged := readFrom(t, hs.pluginLog, off)
			audited := readFrom(t, hs.auditLog, aoff)
			for _, secret := range s.secrets {
				if strings.Contains(logged, secret) {
					t.Errorf("LEAK: the plugin's debug log carries %q:\n%s", secret, logged)
				}
				if strings.Contains(audited, secret) {
					t.Errorf("LEAK: the audit log carries %q:\n%s", secret, audited)
				}
			}
			if s.check != nil {
				s.check(t, line)
			}
		})
	}
}

func readFrom(t *testing.T, path string, off int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[min(off, int64(len(b))):])
}

// TestSecretsNeverLogged: secrets in volume options, log options, mount
// options, plugin settings, build arguments and remotes, import URLs,
// commit changes and registry credentials in a body never reach the
// plugin's debug log or the audit log, on what the real CLI sends.
func TestSecretsNeverLogged(t *testing.T) {
	hs := env(t)
	v := "/v" + hs.apiVersion(t)
	const (
		volPW   = "CANARYd01vol"
		mountPW = "CANARYd02mount"
		logTok  = "CANARYd03log"
		envPW   = "CANARYd04env"
		plugVal = "CANARYd05plugin"
		argVal  = "CANARYd06arg"
		remTok  = "CANARYd07remote"
		impTok  = "CANARYd08import"
		chgVal  = "CANARYd09change"
		pushPW  = "CANARYd10push"
		authPW  = "CANARYd11auth"
	)
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM "+testImage+"\nARG X\nLABEL dw.d=secrets\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.docker(t, "rm", "-f", "dw-d-sec-vol", "dw-d-sec-log", "dw-d-sec-mnt", "dw-d-sec-env")
		hs.docker(t, "volume", "rm", "-f", "dw-d-sec-cifs")
		hs.docker(t, "rmi", "dw-d-sec-build:1", "dw-d-sec-import:1")
	})
	steps := []secretStep{
		{name: "volume create --opt o=username=,password= (CIFS)",
			do: func(t *testing.T) {
				hs.docker(t, "volume", "create", "--opt", "type=cifs", "--opt", "device=//127.0.0.1/share",
					"--opt", "o=addr=127.0.0.1,username=dwd,password="+volPW, "dw-d-sec-cifs")
			},
			marker: "dw-d-sec-cifs", secrets: []string{volPW},
			check: func(t *testing.T, line string) {
				// The daemon has the password: it was sent, and kept.
				r := hs.docker(t, "volume", "inspect", "--format", "{{.Options.o}}", "dw-d-sec-cifs")
				if !strings.Contains(r.stdout, volPW) {
					t.Errorf("the daemon did not store the volume as sent (the case proves nothing): %v", r)
				}
				if !strings.Contains(line, "addr=127.0.0.1") || !strings.Contains(line, "//127.0.0.1/share") {
					t.Errorf("the input lost the volume's non-secret options: %s", line)
				}
			}},
		{name: "create -v of that volume (its options read from the daemon)",
			do: func(t *testing.T) {
				hs.docker(t, "create", "--name", "dw-d-sec-vol", "-v", "dw-d-sec-cifs:/m", testImage)
			},
			marker: "dw-d-sec-vol", secrets: []string{volPW}},
		{name: "create --log-opt splunk-token=",
			do: func(t *testing.T) {
				hs.docker(t, "create", "--name", "dw-d-sec-log", "--log-driver", "splunk", "--log-opt", "splunk-token="+logTok,
					"--log-opt", "splunk-url=https://127.0.0.1:1", testImage)
			},
			marker: "dw-d-sec-log", secrets: []string{logTok}},
		{name: "create --mount volume-opt=o=password=",
			do: func(t *testing.T) {
				hs.docker(t, "create", "--name", "dw-d-sec-mnt", "--mount",
					"type=volume,src=dw-d-sec-mntvol,dst=/m,volume-driver=local,volume-opt=type=cifs,volume-opt=o=password="+mountPW, testImage)
			},
			marker: "dw-d-sec-mnt", secrets: []string{mountPW}},
		{name: "create -e PW=",
			do:     func(t *testing.T) { hs.docker(t, "create", "--name", "dw-d-sec-env", "-e", "PW="+envPW, testImage) },
			marker: "dw-d-sec-env", secrets: []string{envPW}},
		{name: "plugin set KEY=",
			do:     func(t *testing.T) { hs.docker(t, "plugin", "set", "dw-d-sec-plugin", "KEY="+plugVal) },
			marker: "dw-d-sec-plugin", secrets: []string{plugVal}},
		{name: "build --build-arg X=",
			do: func(t *testing.T) {
				hs.docker(t, "build", "--build-arg", "X="+argVal, "-t", "dw-d-sec-build:1", ctx)
			},
			marker: "dw-d-sec-build", secrets: []string{argVal}},
		{name: "build from a remote with user:token@",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/build?t=dw-d-sec-remote&remote=https%3A%2F%2Fci%3A" + remTok + "%40127.0.0.1%3A1%2Fctx.tar"})
			},
			marker: "dw-d-sec-remote", secrets: []string{remTok}},
		{name: "import from a URL with user:token@",
			do: func(t *testing.T) {
				hs.docker(t, "import", "https://u:"+impTok+"@127.0.0.1:1/x.tar", "dw-d-sec-import:1")
			},
			marker: "dw-d-sec-import", secrets: []string{impTok}},
		{name: "commit --change ENV",
			do:     func(t *testing.T) { hs.docker(t, "commit", "--change", "ENV PW="+chgVal, "dw-d-sec-nocontainer") },
			marker: "dw-d-sec-nocontainer", secrets: []string{chgVal}},
		{name: "push with credentials in the body (20.10 reads them without X-Registry-Auth)",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/images/dw-d-sec-push/push", ctype: "application/json",
					body: []byte(`{"username":"u","password":"` + pushPW + `","serveraddress":"127.0.0.1:1"}`)})
			},
			marker: "dw-d-sec-push", secrets: []string{pushPW}},
		{name: "POST /auth?x with credentials (a URI that does not end in /auth)",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/auth?dw-d-sec-auth=1", ctype: "application/json",
					body: []byte(`{"username":"u","password":"` + authPW + `","serveraddress":"127.0.0.1:1"}`)})
			},
			marker: "dw-d-sec-auth", secrets: []string{authPW},
			check: func(t *testing.T, line string) {
				// Older engines skip the body only when the raw URI ends
				// in /auth; newer ones for every /auth path.
				t.Logf("REPORT: %s forwards a POST /auth?x body to plugins: %v", hs.engine, strings.Contains(line, "password"))
			}},
	}
	hs.runSecretSteps(t, steps)
}

// TestSecretsNeverLoggedSwarm: secret and config data, swarm tokens and
// keys, service log and mount options and a plugin service's Env never
// reach the plugin's debug log or the audit log. It makes a swarm: run it
// under `flock /tmp/dw-swarm.lock`.
func TestSecretsNeverLoggedSwarm(t *testing.T) {
	hs := env(t)
	if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
		t.Skip("a docker_gwbridge interface exists already (another daemon's swarm?): not touching it")
	}
	// Swarm management may be admin-only; this test is about logs.
	hs.setModes(t, "dryrun", "swarm_admin_only")
	init := hs.dockerO(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:0")
	t.Cleanup(func() {
		hs.docker(t, "service", "rm", "dw-d-sec-svc", "dw-d-sec-psvc")
		hs.docker(t, "secret", "rm", "dw-d-sec-secret")
		hs.docker(t, "config", "rm", "dw-d-sec-config")
		if r := hs.docker(t, "swarm", "leave", "--force"); r.code != 0 && !strings.Contains(r.stderr, "not part of a swarm") {
			t.Errorf("swarm leave: %v", r)
		}
		if _, err := net.InterfaceByName("docker_gwbridge"); err == nil {
			if out, err := exec.Command("ip", "link", "del", "docker_gwbridge").CombinedOutput(); err != nil {
				t.Errorf("ip link del docker_gwbridge: %v %s", err, out)
			}
		}
	})
	if !init.succeeded() {
		t.Fatalf("swarm init: %v", init)
	}
	v := "/v" + hs.apiVersion(t)
	const (
		secretVal = "CANARYd21secret"
		configVal = "CANARYd22config"
		svcTok    = "CANARYd23svclog"
		svcPW     = "CANARYd24svcmount"
		joinTok   = "CANARYd25join"
		unlockKey = "CANARYd26unlock"
		caKey     = "CANARYd27cakey"
		pluginEnv = "CANARYd28pluginenv"
	)
	dir := t.TempDir()
	secretFile, configFile := filepath.Join(dir, "secret"), filepath.Join(dir, "config")
	if err := os.WriteFile(secretFile, []byte(secretVal), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configFile, []byte(configVal), 0o600); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	steps := []secretStep{
		{name: "secret create",
			do:     func(t *testing.T) { hs.docker(t, "secret", "create", "dw-d-sec-secret", secretFile) },
			marker: "dw-d-sec-secret", secrets: []string{secretVal, b64([]byte(secretVal))},
			check: func(t *testing.T, _ string) {
				if r := hs.docker(t, "secret", "inspect", "dw-d-sec-secret"); r.code != 0 {
					t.Logf("REPORT: the secret was not created (%v): the plugin still saw its body", r)
				}
			}},
		{name: "config create",
			do:     func(t *testing.T) { hs.docker(t, "config", "create", "dw-d-sec-config", configFile) },
			marker: "dw-d-sec-config", secrets: []string{configVal, b64([]byte(configVal))}},
		{name: "service create --log-opt, --mount volume-opt",
			do: func(t *testing.T) {
				hs.docker(t, "service", "create", "--detach", "--name", "dw-d-sec-svc", "--log-driver", "splunk",
					"--log-opt", "splunk-token="+svcTok, "--mount", "type=volume,src=v,dst=/m,volume-opt=o=password="+svcPW, testImage)
			},
			marker: "dw-d-sec-svc", secrets: []string{svcTok, svcPW}},
		{name: "plugin service Env",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/services/create", ctype: "application/json",
					body: []byte(`{"Name":"dw-d-sec-psvc","TaskTemplate":{"Runtime":"plugin","PluginSpec":{"name":"dw-d-sec-psvc","remote":"vieux/sshfs","env":["PW=` + pluginEnv + `"]}}}`)})
			},
			marker: "dw-d-sec-psvc", secrets: []string{pluginEnv}},
		{name: "swarm join --token (already in a swarm: the daemon refuses after the plugin)",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/swarm/join?dw-d-sec-join=1", ctype: "application/json",
					body: []byte(`{"ListenAddr":"127.0.0.1:0","RemoteAddrs":["127.0.0.1:1"],"JoinToken":"SWMTKN-1-` + joinTok + `"}`)})
			},
			marker: "dw-d-sec-join", secrets: []string{joinTok}},
		{name: "swarm unlock (not locked: refused by the daemon after the plugin)",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/swarm/unlock?dw-d-sec-unlock=1", ctype: "application/json",
					body: []byte(`{"UnlockKey":"SWMKEY-1-` + unlockKey + `"}`)})
			},
			marker: "dw-d-sec-unlock", secrets: []string{unlockKey}},
		{name: "swarm update with a signing CA key (out of sequence: refused by the daemon)",
			do: func(t *testing.T) {
				hs.raw(t, rawReq{method: "POST", uri: v + "/swarm/update?version=1&dw-d-sec-ca=1", ctype: "application/json",
					body: []byte(`{"CAConfig":{"SigningCACert":"cert","SigningCAKey":"` + caKey + `"}}`)})
			},
			marker: "dw-d-sec-ca", secrets: []string{caKey}},
	}
	hs.runSecretSteps(t, steps)
}
