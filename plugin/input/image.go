package input

import (
	"errors"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// ImageRef is an image reference as the daemon resolves it, normalized with
// Docker's own reference library (github.com/distribution/reference): alpine
// is docker.io/library/alpine:latest. The trust rules match Candidates.
type ImageRef struct {
	Raw      string `json:"raw"`      // as sent
	Name     string `json:"name"`     // normalized repository, docker.io/library/alpine; "" for an image id
	Familiar string `json:"familiar"` // the name as docker prints it, alpine
	Domain   string `json:"domain"`   // docker.io
	Path     string `json:"path"`     // library/alpine
	Tag      string `json:"tag"`      // "latest" when neither a tag nor a digest is given
	Digest   string `json:"digest"`   // sha256:… when pinned by digest
	// ID is true when Raw is an image id or a short id the daemon knows
	// (sha256:<hex>, <64 hex>, or a hex prefix resolved by the daemon).
	ID bool `json:"is_id"`
	// ImageID is the full id the daemon resolved an id-like Raw to.
	ImageID string `json:"image_id"`
	// Candidates are the repository names the image goes by, each
	// normalized and familiar (docker.io/library/alpine and alpine): for a
	// reference its own name; for an image id every name in the image's
	// RepoTags and RepoDigests. An image id with no name has none.
	Candidates []string `json:"candidates"`
	// Digests are the normalized RepoDigests of an image id
	// (docker.io/library/alpine@sha256:…).
	Digests []string `json:"digests"`
}

// ParseImageRef normalizes a reference the way the daemon parses the image of
// a container create (reference.ParseAnyReference): a 64-hex string or
// sha256:<64 hex> is an image id, anything else a name. It makes no lookup,
// so an id's Candidates are empty. An empty reference gives an empty
// ImageRef (the daemon refuses it); an unparsable one is an *Error.
func ParseImageRef(raw string) (*ImageRef, error) {
	r := &ImageRef{Raw: raw, Candidates: []string{}, Digests: []string{}}
	if raw == "" {
		return r, nil
	}
	ref, err := reference.ParseAnyReference(raw)
	if err != nil {
		return nil, denyf("image reference %q cannot be parsed as Docker parses it: %v", raw, err)
	}
	named, ok := ref.(reference.Named)
	if !ok {
		// A digest alone: an image id.
		if d, ok := ref.(reference.Digested); ok {
			r.ID = true
			r.ImageID = d.Digest().String()
		}
		return r, nil
	}
	r.setName(named)
	return r, nil
}

// setName fills the name fields from a parsed reference.
func (r *ImageRef) setName(named reference.Named) {
	named = reference.TagNameOnly(named) // adds :latest unless tagged or digested
	r.Name = named.Name()
	r.Familiar = reference.FamiliarName(named)
	r.Domain = reference.Domain(named)
	r.Path = reference.Path(named)
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest().String()
	}
	r.Candidates = names(r.Name, r.Familiar)
}

// minLookupID is the shortest id prefix looked up on the daemon (the
// containerd image store's minimum, checkTruncatedID).
const minLookupID = 4

// idPrefix returns the hex an id-like reference names, and whether raw is
// one: a hex string of 1-64 characters, with or without sha256:. The daemon
// resolves a short hex as a name first and as an id prefix when no such
// name exists (daemon/images GetImage), so a short hex is ambiguous until
// the daemon is asked.
func idPrefix(raw string) (string, bool) {
	hex := strings.TrimPrefix(raw, string(digest.SHA256)+":")
	if hex == "" || len(hex) > 64 {
		return "", false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return hex, true
}

// resolveImageRef is ParseImageRef for a reference that may be an image id
// or a short id: the daemon is asked (as the image-user lookup does), and an
// image it knows by that id is matched on the names in its RepoTags and
// RepoDigests. An id-like reference the daemon does not know by that id is a
// name (a full id it does not know has no names at all).
func resolveImageRef(raw string, lookup func(string) (ImageInfo, error)) (*ImageRef, error) {
	r, err := ParseImageRef(raw)
	if err != nil {
		return nil, err
	}
	hex, ok := idPrefix(raw)
	if !ok {
		return r, nil
	}
	if len(hex) < minLookupID {
		// The legacy image store resolves even a 1-3 character id
		// prefix. It is not looked up: an id-like reference with no
		// names, which image trust never matches.
		return &ImageRef{Raw: raw, ID: true, Candidates: []string{}, Digests: []string{}}, nil
	}
	img, err := lookup(raw)
	if errors.Is(err, ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return nil, denyf("cannot look up image %q to learn its repository names: %v", raw, err)
	}
	if !strings.HasPrefix(strings.TrimPrefix(img.ID, string(digest.SHA256)+":"), hex) {
		// The daemon resolved it as a name (a tag called like the hex).
		return r, nil
	}
	return imageRefFromInfo(raw, img), nil
}

// imageRefFromInfo is the ImageRef of an image the daemon found by its id.
func imageRefFromInfo(raw string, img ImageInfo) *ImageRef {
	r := &ImageRef{Raw: raw, ID: true, ImageID: img.ID, Candidates: []string{}, Digests: []string{}}
	var cands, digests []string
	for _, s := range append(append([]string{}, img.RepoTags...), img.RepoDigests...) {
		named, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			continue // "<none>:<none>" and the like
		}
		cands = append(cands, named.Name(), reference.FamiliarName(named))
		if _, ok := named.(reference.Digested); ok {
			digests = append(digests, named.String())
		}
	}
	r.Candidates = names(cands...)
	r.Digests = names(digests...)
	return r
}

// names returns ss sorted and de-duplicated, never nil.
func names(ss ...string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func (v *views) imageRef(ref string) (*ImageRef, error) {
	return resolveImageRef(ref, func(r string) (ImageInfo, error) { return v.lookup().Image(v.ctx, r) })
}

// Image is a request that brings an image under a name onto the host:
// a pull, an import, a load or a tag.
type Image struct {
	Action string `json:"action"` // pull, import, load or tag
	// Ref is what a pull fetches, or the repo:tag an import names its
	// image (nil when it names none).
	Ref *ImageRef `json:"ref,omitempty"`
	// Source and Target are a tag's image (resolved like an id) and the
	// name it gets.
	Source *ImageRef `json:"source,omitempty"`
	Target *ImageRef `json:"target,omitempty"`
}

// imageCreate is POST /images/create: a pull when fromImage is given, an
// import otherwise (the daemon's own test).
func (v *views) imageCreate(in *Input, raw []byte, headers map[string]string) error {
	q := v.rt.Query
	if img := q.Get("fromImage"); img != "" {
		ref, err := pullRef(img, q.Get("tag"))
		if err != nil {
			return err
		}
		in.Image = &Image{Action: "pull", Ref: ref}
	} else {
		in.Image = &Image{Action: "import"}
		if repo := q.Get("repo"); repo != "" {
			ref, err := repoTagRef(repo, q.Get("tag"))
			if err != nil {
				return err
			}
			in.Image.Ref = ref
		}
	}
	var err error
	in.Body, err = decodeGeneric(raw, contentType(headers))
	return err
}

// pullRef parses a pull's fromImage and tag as the daemon does: a trailing
// ":" is dropped ("pull -a"), and a tag that parses as a digest pins it.
func pullRef(img, tag string) (*ImageRef, error) {
	raw := strings.TrimSuffix(img, ":")
	named, err := reference.ParseNormalizedNamed(raw)
	if err != nil {
		return nil, denyf("image reference %q cannot be parsed as Docker parses it: %v", img, err)
	}
	if tag != "" {
		// One err for both branches: the tag's own error must not hide in
		// the if statement's scope (the fuzzer found a nil named that way).
		if dgst, perr := digest.Parse(tag); perr == nil {
			named, err = reference.WithDigest(reference.TrimNamed(named), dgst)
		} else {
			named, err = reference.WithTag(named, tag)
		}
		if err != nil {
			return nil, denyf("image reference %q with tag %q cannot be parsed as Docker parses it: %v", img, tag, err)
		}
		raw = reference.FamiliarString(named)
	}
	r := &ImageRef{Raw: raw}
	r.setName(named)
	r.Digests = []string{}
	return r, nil
}

// repoTagRef parses a repo and tag pair as the daemon's RepoTagReference
// does (tag and import): no digest, "latest" by default.
func repoTagRef(repo, tag string) (*ImageRef, error) {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, denyf("repository %q cannot be parsed as Docker parses it: %v", repo, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, denyf("repository %q is a digest reference: an image cannot be given one", repo)
	}
	raw := repo
	if tag != "" {
		named, err = reference.WithTag(named, tag)
		if err != nil {
			return nil, denyf("tag %q of repository %q cannot be parsed: %v", tag, repo, err)
		}
		raw = repo + ":" + tag
	}
	r := &ImageRef{Raw: raw}
	r.setName(named)
	r.Digests = []string{}
	return r, nil
}

// imageTag is POST /images/{name}/tag?repo=R&tag=T: the image the daemon
// resolves from {name} gets the name R:T.
func (v *views) imageTag(in *Input, raw []byte, headers map[string]string) error {
	src, err := v.imageRef(v.rt.ID)
	if err != nil {
		return err
	}
	repo := v.rt.Query.Get("repo")
	if repo == "" {
		return denyf("image tag without a repo: nothing to check (the daemon refuses it too)")
	}
	target, err := repoTagRef(repo, v.rt.Query.Get("tag"))
	if err != nil {
		return err
	}
	in.Image = &Image{Action: "tag", Source: src, Target: target}
	in.Body, err = decodeGeneric(raw, contentType(headers))
	return err
}

// imageLoad is POST /images/load: a tar of images under any names, which
// the plugin is never shown.
func (v *views) imageLoad(in *Input, raw []byte, headers map[string]string) error {
	in.Image = &Image{Action: "load"}
	var err error
	in.Body, err = decodeGeneric(raw, contentType(headers))
	return err
}
