package input

import (
	"context"
	"errors"

	"github.com/moby/moby/api/types/container"
)

// ErrNotFound is what a Lookup returns for an object the daemon does not have.
var ErrNotFound = errors.New("not found")

// ImageInfo is what the daemon knows of an image.
type ImageInfo struct {
	ID          string
	User        string // the image's configured USER ("" = root)
	RepoTags    []string
	RepoDigests []string
}

// Lookup asks the daemon about the objects a request refers to: the facts
// that are not in the request itself (B7, B8, B15).
type Lookup interface {
	Image(ctx context.Context, ref string) (ImageInfo, error)
	Container(ctx context.Context, ref string) (*container.Config, *container.HostConfig, error)
	Volume(ctx context.Context, name string) (driver string, options map[string]string, err error)
	// ImageUserID resolves a user name in the image's /etc/passwd.
	ImageUserID(ctx context.Context, imageID, name string) (int, error)
}

// noLookup is used when the plugin has no daemon to ask: every lookup
// fails, so every request that needs one is denied.
type noLookup struct{}

var errNoDaemon = errors.New("dockward has no daemon to ask (--docker-host)")

func (noLookup) Image(context.Context, string) (ImageInfo, error) { return ImageInfo{}, errNoDaemon }
func (noLookup) Container(context.Context, string) (*container.Config, *container.HostConfig, error) {
	return nil, nil, errNoDaemon
}
func (noLookup) Volume(context.Context, string) (string, map[string]string, error) {
	return "", nil, errNoDaemon
}
func (noLookup) ImageUserID(context.Context, string, string) (int, error) { return 0, errNoDaemon }

// StaticLookup answers lookups from maps: for tests, and for evaluating
// requests away from any daemon. A missing entry is ErrNotFound.
type StaticLookup struct {
	Images     map[string]ImageInfo
	Containers map[string]container.CreateRequest
	Volumes    map[string]map[string]string // name -> local driver options
	Passwd     map[string]map[string]int    // image id -> user name -> uid
}

// Image implements Lookup.
func (s StaticLookup) Image(_ context.Context, ref string) (ImageInfo, error) {
	if img, ok := s.Images[ref]; ok {
		return img, nil
	}
	return ImageInfo{}, ErrNotFound
}

// Container implements Lookup.
func (s StaticLookup) Container(_ context.Context, ref string) (*container.Config, *container.HostConfig, error) {
	c, ok := s.Containers[ref]
	if !ok {
		return nil, nil, ErrNotFound
	}
	cfg, hc := c.Config, c.HostConfig
	if cfg == nil {
		cfg = &container.Config{}
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	return cfg, hc, nil
}

// Volume implements Lookup.
func (s StaticLookup) Volume(_ context.Context, name string) (string, map[string]string, error) {
	if opts, ok := s.Volumes[name]; ok {
		return "local", opts, nil
	}
	return "", nil, ErrNotFound
}

// ImageUserID implements Lookup.
func (s StaticLookup) ImageUserID(_ context.Context, imageID, name string) (int, error) {
	if uid, ok := s.Passwd[imageID][name]; ok {
		return uid, nil
	}
	return 0, ErrNotFound
}
