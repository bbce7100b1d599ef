package pki

import (
	"crypto/tls"
	"sync"
	"time"
)

// Minter hands out one client certificate per user, cached, and re-mints
// it once two thirds of its life have passed, so a certificate in use is
// never near expiry. The cache holds one entry per local user name seen,
// bounded by the host's user database; expired entries are dropped when a
// new one is added.
type Minter struct {
	CA  *CA
	TTL time.Duration
	Now func() time.Time // time.Now when nil (tests set it)

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

// NewMinter mints certificates of ttl (DefaultClientTTL when 0).
func NewMinter(ca *CA, ttl time.Duration) *Minter {
	if ttl <= 0 {
		ttl = DefaultClientTTL
	}
	return &Minter{CA: ca, TTL: ttl}
}

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Get is user's current certificate.
func (m *Minter) Get(user string) (*tls.Certificate, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[user]; ok && now.Before(renewAt(c)) {
		return c, nil
	}
	c, err := m.CA.Issue(user, m.TTL, now)
	if err != nil {
		return nil, err
	}
	if m.cache == nil {
		m.cache = map[string]*tls.Certificate{}
	}
	for u, old := range m.cache {
		if !now.Before(old.Leaf.NotAfter) {
			delete(m.cache, u)
		}
	}
	m.cache[user] = c
	return c, nil
}

// renewAt is when two thirds of c's validity have passed.
func renewAt(c *tls.Certificate) time.Time {
	life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return c.Leaf.NotBefore.Add(life * 2 / 3)
}
