// Package owner is dockward's record of who created each container, swarm
// service, volume and network: kind + the daemon's id (a volume's name) ->
// the user name and when. The plugin writes a record from the AuthZRes of a
// successful create, before dockerd hands the id to the client, and removes
// it on a successful delete; owner_only reads it.
//
// Failing closed: an object without a record belongs to nobody, which
// owner_only reads as admin-only. So every way a record can go missing (a
// crash between the create and the record, a full store evicting the
// oldest, a write that failed) takes power away, never gives it.
//
// The store is a bbolt file (one writer process: bbolt locks it with flock,
// so `dockward own` goes through the serving process's control socket).
package owner

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Kinds of objects the store records.
const (
	Container = "container"
	Service   = "service"
	Volume    = "volume"
	Network   = "network"
)

// ValidKind reports whether k is one of the kinds above.
func ValidKind(k string) bool {
	return k == Container || k == Service || k == Volume || k == Network
}

// DefaultMax is the default bound on records. A record is ~150 bytes, so
// the file stays around 30 MiB at the bound.
const DefaultMax = 100_000

// Record is one object's owner.
type Record struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
}

var (
	bucketRecords = []byte("records") // kind \x00 id -> Record JSON
	bucketByTime  = []byte("bytime")  // created ns (8 bytes BE) + kind \x00 id -> nil: the eviction order
	bucketMeta    = []byte("meta")    // "count" -> uint64 BE
	keyCount      = []byte("count")
)

// Store is an open ownership file.
type Store struct {
	db   *bolt.DB
	path string
	max  int
	// OnEvict is told of every record a full store evicts (the plugin
	// logs it loudly). It runs inside the write transaction: no I/O.
	OnEvict func(Record)

	mu  sync.Mutex // serializes Put's read-then-write with Claim
	now func() time.Time
}

// ErrCorrupt wraps every failure to open an existing file.
var ErrCorrupt = errors.New("the ownership store cannot be read")

// Open opens (or creates, 0600) the store at path, bounded to max records
// (DefaultMax when max <= 0). A file that is not a bbolt database, or is
// damaged, is an error wrapping ErrCorrupt: the caller decides how to fail
// closed (the plugin serves on and denies every request that needs an
// owner, naming the file). Open waits at most a second for another process
// holding the file.
func Open(path string, max int) (*Store, error) {
	if max <= 0 {
		max = DefaultMax
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ownership store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("ownership store %s is locked by another process (a dockward serve already running?): %w", path, err)
		}
		return nil, fmt.Errorf("%w: %s: %v (move the file aside and restart dockward: every object then belongs to nobody, admins only, until `dockward own` claims it)", ErrCorrupt, path, err)
	}
	s := &Store{db: db, path: path, max: max, now: time.Now}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketByTime, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		// A file that opens can still be damaged inside: walk it once
		// (bounded by max records), so a damaged page fails here, not on
		// the request that first reads it.
		err = db.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				return e
			}
			return nil
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: %s: %v (move the file aside and restart dockward)", ErrCorrupt, path, err)
	}
	return s, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close releases the file (and its lock).
func (s *Store) Close() error { return s.db.Close() }

func key(kind, id string) []byte { return []byte(kind + "\x00" + id) }

func timeKey(t time.Time, k []byte) []byte {
	out := make([]byte, 8, 8+len(k))
	binary.BigEndian.PutUint64(out, uint64(t.UnixNano()))
	return append(out, k...)
}

// Lookup returns the owner of kind/id, or "" when nobody owns it.
func (s *Store) Lookup(kind, id string) (Record, bool, error) {
	var r Record
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(key(kind, id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("ownership store %s: read %s %s: %w", s.path, kind, id, err)
	}
	return r, found, nil
}

// PutPolicy says what Put does when kind/id already has a record.
type PutPolicy int

const (
	// KeepExisting never overwrites a record (another owner's or the
	// same one's): a volume create is idempotent on the daemon.
	KeepExisting PutPolicy = iota
	// ReplaceOlder overwrites a record made before the given time (a
	// record of an object that did not exist then is stale), and keeps
	// one made since (a concurrent create that won).
	ReplaceOlder
	// Replace always writes (dockward own).
	Replace
)

// Put records owner for kind/id. It reports whether it wrote. A full store
// evicts its oldest record first (OnEvict is told): that object then
// belongs to nobody, which is admins only (closed).
func (s *Store) Put(kind, id, owner string, policy PutPolicy, before time.Time) (bool, error) {
	if !ValidKind(kind) || id == "" || owner == "" {
		return false, fmt.Errorf("ownership record needs a kind, an id and an owner (got %q %q %q)", kind, id, owner)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wrote := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		recs, byTime, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketByTime), tx.Bucket(bucketMeta)
		k := key(kind, id)
		count := counter(meta)
		if old := recs.Get(k); old != nil {
			var r Record
			if err := json.Unmarshal(old, &r); err != nil {
				return fmt.Errorf("record of %s %s: %w", kind, id, err)
			}
			switch policy {
			case KeepExisting:
				return nil
			case ReplaceOlder:
				if !r.Created.Before(before) {
					return nil
				}
			}
			if err := byTime.Delete(timeKey(r.Created, k)); err != nil {
				return err
			}
			count--
		}
		for count >= uint64(s.max) {
			c := byTime.Cursor()
			tk, _ := c.First()
			if tk == nil {
				break // the count is off; the bound is best effort then
			}
			ek := append([]byte{}, tk[8:]...)
			var ev Record
			if v := recs.Get(ek); v != nil {
				_ = json.Unmarshal(v, &ev)
			}
			if err := c.Delete(); err != nil {
				return err
			}
			if err := recs.Delete(ek); err != nil {
				return err
			}
			count--
			if s.OnEvict != nil {
				s.OnEvict(ev)
			}
		}
		r := Record{Kind: kind, ID: id, Owner: owner, Created: s.now().UTC()}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := recs.Put(k, v); err != nil {
			return err
		}
		if err := byTime.Put(timeKey(r.Created, k), nil); err != nil {
			return err
		}
		wrote = true
		return setCounter(meta, count+1)
	})
	if err != nil {
		return false, fmt.Errorf("ownership store %s: write %s %s: %w", s.path, kind, id, err)
	}
	return wrote, nil
}

// Delete removes the record of kind/id, if any.
func (s *Store) Delete(kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		recs, byTime, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketByTime), tx.Bucket(bucketMeta)
		k := key(kind, id)
		old := recs.Get(k)
		if old == nil {
			return nil
		}
		var r Record
		if err := json.Unmarshal(old, &r); err == nil {
			if err := byTime.Delete(timeKey(r.Created, k)); err != nil {
				return err
			}
		}
		if err := recs.Delete(k); err != nil {
			return err
		}
		if c := counter(meta); c > 0 {
			return setCounter(meta, c-1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ownership store %s: delete %s %s: %w", s.path, kind, id, err)
	}
	return nil
}

// Len is the number of records.
func (s *Store) Len() (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = counter(tx.Bucket(bucketMeta))
		return nil
	})
	return int(n), err
}

func counter(meta *bolt.Bucket) uint64 {
	v := meta.Get(keyCount)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func setCounter(meta *bolt.Bucket, n uint64) error {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, n)
	return meta.Put(keyCount, v)
}

// Owners is what the plugin needs of a store: a *Store, or Broken when the
// file could not be opened.
type Owners interface {
	Lookup(kind, id string) (Record, bool, error)
	Put(kind, id, owner string, policy PutPolicy, before time.Time) (bool, error)
	Delete(kind, id string) error
	Len() (int, error)
}

var _ Owners = (*Store)(nil)

// Broken is the store when its file could not be opened (corrupt, locked,
// unreadable): every call fails with Err, so every request that needs an
// owner is denied naming the file, and nothing else is. The plugin still
// serves: refusing to start would refuse every Docker call on the host,
// docker ps included, and leave no way to run `dockward own`.
type Broken struct{ Err error }

// Lookup implements Owners.
func (b Broken) Lookup(string, string) (Record, bool, error) { return Record{}, false, b.Err }

// Put implements Owners.
func (b Broken) Put(string, string, string, PutPolicy, time.Time) (bool, error) { return false, b.Err }

// Delete implements Owners.
func (b Broken) Delete(string, string) error { return b.Err }

// Len implements Owners.
func (b Broken) Len() (int, error) { return 0, b.Err }
