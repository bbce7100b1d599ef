// Package pki is the local certificate authority of dockward's identity
// broker: a CA whose key never leaves the host (ca.pem, ca-key.pem 0600),
// dockerd's server certificate for its loopback TLS listener
// (server-cert.pem, server-key.pem), and short-lived client certificates
// whose CN is a local user's name, minted in memory for the broker.
//
// dockerd passes an authorization plugin the CN of a verified client
// certificate as the user; only the holder of ca-key.pem can make one that
// dockerd's --tlsverify accepts, so a forged CN needs the CA key.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names in the PKI directory (the contract with install.sh and doctor).
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca-key.pem"
	ServerCertFile = "server-cert.pem"
	ServerKeyFile  = "server-key.pem"
)

// Lifetimes. The CA outlives everything it signs; dockerd's certificate is
// renewed by `dockward identity init` a month before it expires; client
// certificates live a day and are re-minted when a third of that is left.
const (
	CAValidity        = 10 * 365 * 24 * time.Hour
	ServerValidity    = 365 * 24 * time.Hour
	ServerRenewBefore = 30 * 24 * time.Hour
	DefaultClientTTL  = 24 * time.Hour
	clockSkew         = 5 * time.Minute // NotBefore is backdated this much
	caCommonName      = "dockward identity CA"
	serverCommonName  = "dockward dockerd"
)

// CA is the loaded authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

// Pool is a pool that trusts this CA only.
func (ca *CA) Pool() *x509.CertPool { return ca.pool }

// Init loads the CA in dir, or creates it when neither ca.pem nor
// ca-key.pem exists. One without the other is an error, never overwritten:
// a lost key is the operator's to resolve.
func Init(dir string, now time.Time) (ca *CA, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	if errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, false, fmt.Errorf("make the PKI directory %s: %w", dir, err)
		}
		ca, err := newCA(now)
		if err != nil {
			return nil, false, err
		}
		kDER, err := x509.MarshalECPrivateKey(ca.Key)
		if err != nil {
			return nil, false, err
		}
		// The key first: a crash between the two leaves a key without a
		// cert, which Init refuses loudly rather than minting a second CA.
		if err := writeFile(keyPath, "EC PRIVATE KEY", kDER, 0o600); err != nil {
			return nil, false, err
		}
		if err := writeFile(certPath, "CERTIFICATE", ca.Cert.Raw, 0o644); err != nil {
			return nil, false, err
		}
		return ca, true, nil
	}
	ca, err = Load(dir, now)
	return ca, false, err
}

func newCA(now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: caCommonName},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(CAValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign the CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return newLoaded(cert, key), nil
}

func newLoaded(cert *x509.Certificate, key *ecdsa.PrivateKey) *CA {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, pool: pool}
}

// Load reads the CA in dir. It refuses a key file that others can read, a
// key that does not match the certificate, and a CA that is not valid now.
func Load(dir string, now time.Time) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if err := CheckPrivate(keyPath); err != nil {
		return nil, err
	}
	cert, err := ReadCert(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate: remove %s and %s and run `dockward identity init` again", certPath, certPath, keyPath)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s: restore the matching pair, or remove both and run `dockward identity init` again", keyPath, certPath)
	}
	if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return nil, fmt.Errorf("the CA %s is valid from %s to %s, not now: remove %s and %s, run `dockward identity init` and restart dockerd",
			certPath, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339), certPath, keyPath)
	}
	return newLoaded(cert, key), nil
}

// CheckPrivate refuses a private key file that is not a regular file owned
// by this process's user with no group or world bits: anyone who can read
// it can be any user to dockerd.
func CheckPrivate(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("private key %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("private key %s is not a regular file (%s): replace it with the real key file", path, st.Mode().Type())
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("private key %s is readable by others (mode %04o): chmod 600 %s (and consider it leaked: remove the PKI and run `dockward identity init` again)", path, perm, path)
	}
	if uid, ok := fileUID(st); ok && uid != os.Geteuid() {
		return fmt.Errorf("private key %s is owned by uid %d, not by this process's uid %d: chown it to root", path, uid, os.Geteuid())
	}
	return nil
}

// ServerState says what EnsureServer did.
type ServerState string

const (
	ServerCreated ServerState = "created"
	ServerRenewed ServerState = "renewed"
	ServerKept    ServerState = "kept"
)

// EnsureServer makes dockerd's certificate for ip in dir unless a valid
// one signed by ca, for ip, with more than renewBefore left, is there. The
// reason for a renewal is returned for the operator.
func (ca *CA) EnsureServer(dir string, ip net.IP, renewBefore time.Duration, now time.Time) (ServerState, string, error) {
	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	state := ServerCreated
	why := "no server certificate"
	if _, err := os.Lstat(keyPath); err == nil {
		// A key others could read may have leaked: the operator decides,
		// dockward does not quietly paper over it.
		if err := CheckPrivate(keyPath); err != nil {
			return "", "", err
		}
	}
	if _, err := os.Stat(certPath); err == nil {
		state = ServerRenewed
		why = ca.serverProblem(certPath, keyPath, ip, renewBefore, now)
		if why == "" {
			return ServerKept, "", nil
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := randomSerial()
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: serverCommonName},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(ServerValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{ip},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return "", "", fmt.Errorf("sign the server certificate: %w", err)
	}
	kDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := writeFile(keyPath, "EC PRIVATE KEY", kDER, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFile(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", err
	}
	return state, why, nil
}

// serverProblem is why the certificate at certPath must be replaced, or "".
func (ca *CA) serverProblem(certPath, keyPath string, ip net.IP, renewBefore time.Duration, now time.Time) string {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Sprintf("not valid under this CA now: %v", err)
	}
	if err := cert.VerifyHostname(ip.String()); err != nil {
		return fmt.Sprintf("not for %s", ip)
	}
	if left := cert.NotAfter.Sub(now); left < renewBefore {
		return fmt.Sprintf("expires %s (in %s, less than %s)", cert.NotAfter.UTC().Format(time.RFC3339), left.Round(time.Minute), renewBefore)
	}
	return ""
}

// Issue signs a client certificate for user cn valid for ttl, with a fresh
// key, in memory only.
func (ca *CA) Issue(cn string, ttl time.Duration, now time.Time) (*tls.Certificate, error) {
	if cn == "" {
		return nil, errors.New("no user name for the client certificate")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(ttl)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-clockSkew), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign a client certificate for %s: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ReadCert reads one PEM certificate.
func ReadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	return c, nil
}

func readKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM key", path)
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key %s (expected an EC key): %w", path, err)
	}
	return k, nil
}

// writeFile replaces path atomically with one PEM block, mode perm from the
// first byte (never briefly wider).
func writeFile(path, typ string, der []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(perm); err != nil { // umask narrowed nothing, but be exact
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}
