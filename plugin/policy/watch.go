package policy

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
)

// Reloader reloads the policy directory into an Engine, keeping the last good
// policy when the new one does not load.
type Reloader struct {
	Engine *Engine
	Dir    string
	Log    *logrus.Logger
	// OnReload, if set, is told the outcome of every reload attempt.
	OnReload func(c *Compiled, err error)

	mu sync.Mutex // one reload at a time
}

// Reload loads and swaps in the policy. On failure the running policy stays
// in force and the error is logged loudly and returned. Once a bundle is in
// force the directory is only the fallback of a fresh start: a reload leaves
// the bundle in force (bundle wins).
func (r *Reloader) Reload(ctx context.Context, why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.Engine.Current()
	if old != nil && old.Source == SourceBundle {
		r.Log.WithFields(logrus.Fields{"trigger": why, "dir": r.Dir, "revision": old.Revision}).
			Info("policy directory not reloaded: a policy bundle is in force and wins over the local policy")
		return nil
	}
	c, err := Load(ctx, r.Dir)
	if err != nil {
		fields := logrus.Fields{"trigger": why, "error": err.Error()}
		if old != nil {
			fields["revision"] = old.Revision
		}
		r.Log.WithFields(fields).Error("policy reload FAILED: keeping the last good policy in force; fix the policy and save again (or send SIGHUP)")
	} else if old == nil || old.Revision != c.Revision {
		if !r.Engine.CompareAndSwap(old, c) {
			// A bundle was activated while the directory compiled.
			r.Log.WithFields(logrus.Fields{"trigger": why, "dir": r.Dir}).Info("policy directory not reloaded: a policy bundle took over meanwhile")
			return nil
		}
		r.Log.WithFields(logrus.Fields{"trigger": why, "revision": c.Revision, "rules": len(c.Rules)}).Info("policy reloaded")
	}
	if r.OnReload != nil {
		r.OnReload(c, err)
	}
	return err
}

// Watch reloads on every change under the policy directory until ctx ends.
// Changes are debounced: an editor's save is several events.
func (r *Reloader) Watch(ctx context.Context, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := addTree(w, r.Dir); err != nil {
		return err
	}
	var timer *time.Timer
	fire := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("policy watcher closed")
			}
			if ev.Has(fsnotify.Create) {
				// fsnotify does not recurse: watch new rule directories too.
				_ = addTree(w, ev.Name)
			}
			if timer != nil {
				timer.Stop()
			}
			timer = time.AfterFunc(debounce, func() {
				select {
				case fire <- struct{}{}:
				default:
				}
			})
		case <-fire:
			// The watched tree may have been replaced (a ConfigMap-style
			// symlink swap, `git checkout`): re-add before reloading.
			_ = addTree(w, r.Dir)
			_ = r.Reload(ctx, "file change")
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("policy watcher closed")
			}
			r.Log.WithError(err).Warn("policy watcher error; SIGHUP still reloads")
		}
	}
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished while walking: the next event re-adds
		}
		if d.IsDir() {
			return w.Add(p)
		}
		return nil
	})
}
