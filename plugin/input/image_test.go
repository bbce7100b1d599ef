package input

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/go-plugins-helpers/authorization"
)

const (
	hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB = "0123456789ab0123456789ab0123456789ab0123456789ab0123456789ab0123"
)

// imageWorld is a daemon that knows alpine under two names and a digest
// (by its short id and its full id), an untagged image, and a tag named
// like a hex string that points at an unrelated image.
var imageWorld = StaticLookup{Images: map[string]ImageInfo{
	"0123456789ab": {ID: "sha256:" + hexB, RepoTags: []string{"alpine:3.19", "registry.example.com/base/alpine:3"},
		RepoDigests: []string{"alpine@sha256:" + hexA}},
	"sha256:" + hexB: {ID: "sha256:" + hexB, RepoTags: []string{"alpine:3.19"}},
	"cafe0000":       {ID: "sha256:cafe0000" + hexA[8:], RepoTags: []string{"<none>:<none>"}},
	"beef":           {ID: "sha256:" + hexA, RepoTags: []string{"beef:latest"}},
	"evil":           {ID: "sha256:" + hexA},
}}

func TestImageRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw        string
		name, fam  string
		domain     string
		path, tag  string
		digest     string
		isID       bool
		imageID    string
		candidates []string
		digests    []string
		wantErr    string
	}{
		{raw: "alpine", name: "docker.io/library/alpine", fam: "alpine", domain: "docker.io", path: "library/alpine", tag: "latest",
			candidates: []string{"alpine", "docker.io/library/alpine"}},
		{raw: "alpine:3", name: "docker.io/library/alpine", fam: "alpine", domain: "docker.io", path: "library/alpine", tag: "3",
			candidates: []string{"alpine", "docker.io/library/alpine"}},
		{raw: "docker.io/library/alpine", name: "docker.io/library/alpine", fam: "alpine", domain: "docker.io", path: "library/alpine", tag: "latest",
			candidates: []string{"alpine", "docker.io/library/alpine"}},
		{raw: "library/alpine", name: "docker.io/library/alpine", fam: "alpine", domain: "docker.io", path: "library/alpine", tag: "latest",
			candidates: []string{"alpine", "docker.io/library/alpine"}},
		{raw: "index.docker.io/library/alpine", name: "docker.io/library/alpine", fam: "alpine", domain: "docker.io", path: "library/alpine", tag: "latest",
			candidates: []string{"alpine", "docker.io/library/alpine"}},
		{raw: "evil/alpine", name: "docker.io/evil/alpine", fam: "evil/alpine", domain: "docker.io", path: "evil/alpine", tag: "latest",
			candidates: []string{"docker.io/evil/alpine", "evil/alpine"}},
		{raw: "registry.example.com:5000/team/app@sha256:" + hexA, name: "registry.example.com:5000/team/app",
			fam: "registry.example.com:5000/team/app", domain: "registry.example.com:5000", path: "team/app", digest: "sha256:" + hexA,
			candidates: []string{"registry.example.com:5000/team/app"}},
		{raw: "registry.example.com/app:1@sha256:" + hexA, name: "registry.example.com/app", fam: "registry.example.com/app",
			domain: "registry.example.com", path: "app", tag: "1", digest: "sha256:" + hexA, candidates: []string{"registry.example.com/app"}},
		{raw: "localhost/x", name: "localhost/x", fam: "localhost/x", domain: "localhost", path: "x", tag: "latest",
			candidates: []string{"localhost/x"}},
		// An image id: matched on the names the daemon knows it by.
		{raw: "sha256:" + hexB, isID: true, imageID: "sha256:" + hexB, candidates: []string{"alpine", "docker.io/library/alpine"}},
		// A short id: the same, with the repo digests kept.
		{raw: "0123456789ab", isID: true, imageID: "sha256:" + hexB,
			candidates: []string{"alpine", "docker.io/library/alpine", "registry.example.com/base/alpine"},
			digests:    []string{"docker.io/library/alpine@sha256:" + hexA}},
		// A full id the daemon does not have: an id with no names.
		{raw: hexA, isID: true, imageID: "sha256:" + hexA},
		// An untagged image: no names.
		{raw: "cafe0000", isID: true, imageID: "sha256:cafe0000" + hexA[8:]},
		// A hex-looking name the daemon resolves as a name (its id does
		// not start with the hex): a name.
		{raw: "beef", name: "docker.io/library/beef", fam: "beef", domain: "docker.io", path: "library/beef", tag: "latest",
			candidates: []string{"beef", "docker.io/library/beef"}},
		// A hex-looking name the daemon does not have: a name.
		{raw: "deadbeef", name: "docker.io/library/deadbeef", fam: "deadbeef", domain: "docker.io", path: "library/deadbeef", tag: "latest",
			candidates: []string{"deadbeef", "docker.io/library/deadbeef"}},
		// Too short to look up: id-like, no names.
		{raw: "abc", isID: true},
		// Not hex: a name, never looked up.
		{raw: "evil", name: "docker.io/library/evil", fam: "evil", domain: "docker.io", path: "library/evil", tag: "latest",
			candidates: []string{"docker.io/library/evil", "evil"}},
		{raw: "Alpine", wantErr: "cannot be parsed"},
		{raw: "alpine:", wantErr: "cannot be parsed"},
		{raw: "registry.example.com/app@sha256:abc", wantErr: "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			v := &views{b: Builder{Lookup: imageWorld}, ctx: t.Context()}
			got, err := v.imageRef(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, ok := err.(*Error); !ok {
					t.Fatalf("err %T is not an *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.candidates == nil {
				tt.candidates = []string{}
			}
			if tt.digests == nil {
				tt.digests = []string{}
			}
			want := &ImageRef{Raw: tt.raw, Name: tt.name, Familiar: tt.fam, Domain: tt.domain, Path: tt.path, Tag: tt.tag,
				Digest: tt.digest, ID: tt.isID, ImageID: tt.imageID, Candidates: tt.candidates, Digests: tt.digests}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestImageRefLookupFailureDenies(t *testing.T) {
	t.Parallel()
	v := &views{b: Builder{}, ctx: t.Context()} // no daemon
	if _, err := v.imageRef("0123456789ab"); err == nil || !strings.Contains(err.Error(), "cannot look up image") {
		t.Fatalf("err = %v, want a lookup failure", err)
	}
	// A name is never looked up.
	if _, err := v.imageRef("alpine"); err != nil {
		t.Fatal(err)
	}
}

func TestImageViews(t *testing.T) {
	t.Parallel()
	noBody := func(method, uri string) authorization.Request {
		return authorization.Request{RequestMethod: method, RequestURI: uri, RequestHeaders: map[string]string{}}
	}
	tests := []buildCase{
		{name: "create has image_ref", req: createReq(`{"Image":"alpine:3","User":"1000"}`),
			check: func(in *Input) bool {
				r := in.Container.ImageRef
				return in.Container.Image == "alpine:3" && r.Name == "docker.io/library/alpine" && r.Tag == "3"
			}},
		{name: "create by short id matches its names", req: createReq(`{"Image":"0123456789ab","User":"1000"}`),
			check: func(in *Input) bool {
				r := in.Container.ImageRef
				return r.ID && len(r.Candidates) == 3 && r.Candidates[2] == "registry.example.com/base/alpine"
			}},
		{name: "create with an unparsable image", req: createReq(`{"Image":"Alpine","User":"1000"}`), wantErr: "cannot be parsed"},
		{name: "service has image_ref",
			req: post("/v1.41/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"registry.example.com/base/app@sha256:`+hexA+`","User":"1000"}}}`),
			check: func(in *Input) bool {
				r := in.Container.ImageRef
				return r.Name == "registry.example.com/base/app" && r.Digest == "sha256:"+hexA && r.Tag == ""
			}},
		{name: "pull", req: noBody("POST", "/v1.41/images/create?fromImage=alpine&tag=3"),
			check: func(in *Input) bool {
				i := in.Image
				return i.Action == "pull" && i.Ref.Raw == "alpine:3" && i.Ref.Name == "docker.io/library/alpine" && i.Ref.Tag == "3"
			}},
		{name: "pull by digest in tag", req: noBody("POST", "/v1.41/images/create?fromImage=registry.example.com/base/app&tag=sha256:"+hexA),
			check: func(in *Input) bool {
				r := in.Image.Ref
				return r.Digest == "sha256:"+hexA && r.Tag == "" && r.Raw == "registry.example.com/base/app@sha256:"+hexA
			}},
		{name: "pull -a trailing colon", req: noBody("POST", "/v1.41/images/create?fromImage=evil.io/x:"),
			check: func(in *Input) bool { return in.Image.Ref.Name == "evil.io/x" && in.Image.Ref.Tag == "latest" }},
		{name: "pull tag overrides the name's tag", req: noBody("POST", "/v1.41/images/create?fromImage=alpine:3&tag=edge"),
			check: func(in *Input) bool { return in.Image.Ref.Tag == "edge" && in.Image.Ref.Raw == "alpine:edge" }},
		{name: "pull of an unparsable name", req: noBody("POST", "/v1.41/images/create?fromImage=Evil"), wantErr: "cannot be parsed"},
		{name: "pull parameters in a form body", req: authorization.Request{RequestMethod: "POST",
			RequestURI:     "/v1.41/images/create?fromImage=alpine",
			RequestHeaders: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, wantErr: "form-encoded body"},
		{name: "import", req: noBody("POST", "/v1.41/images/create?fromSrc=-&repo=registry.example.com/base/x&tag=1"),
			check: func(in *Input) bool {
				return in.Image.Action == "import" && in.Image.Ref.Name == "registry.example.com/base/x" && in.Image.Ref.Tag == "1"
			}},
		{name: "import without a repo", req: noBody("POST", "/v1.41/images/create?fromSrc=http://x/y.tar"),
			check: func(in *Input) bool { return in.Image.Action == "import" && in.Image.Ref == nil }},
		{name: "neither fromImage nor fromSrc is an import", req: noBody("POST", "/v1.41/images/create?repo=x"),
			check: func(in *Input) bool { return in.Image.Action == "import" }},
		{name: "load", req: noBody("POST", "/v1.41/images/load?quiet=1"),
			check: func(in *Input) bool { return in.Image.Action == "load" }},
		{name: "tag", req: noBody("POST", "/v1.41/images/0123456789ab/tag?repo=registry.example.com/base/x&tag=1"),
			check: func(in *Input) bool {
				i := in.Image
				return i.Action == "tag" && i.Source.ID && len(i.Source.Candidates) == 3 &&
					i.Target.Raw == "registry.example.com/base/x:1" && i.Target.Name == "registry.example.com/base/x" && i.Target.Tag == "1"
			}},
		{name: "tag of a name with a registry", req: noBody("POST", "/v1.41/images/reg.io:5000/team/app/tag?repo=alpine"),
			check: func(in *Input) bool {
				return in.Image.Source.Name == "reg.io:5000/team/app" && in.Image.Target.Name == "docker.io/library/alpine" && in.Image.Target.Tag == "latest"
			}},
		{name: "tag into a digest", req: noBody("POST", "/v1.41/images/alpine/tag?repo=x@sha256:"+hexA), wantErr: "digest reference"},
		{name: "tag without a repo", req: noBody("POST", "/v1.41/images/alpine/tag"), wantErr: "without a repo"},
		{name: "tag parameters in a form body", req: authorization.Request{RequestMethod: "POST",
			RequestURI:     "/v1.41/images/alpine/tag?repo=x",
			RequestHeaders: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}, wantErr: "form-encoded body"},
	}
	runBuildCases(t, Builder{Lookup: imageWorld, Resolver: mapResolver{}}, tests)
}
