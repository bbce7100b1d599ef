package audit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// Follow streams records appended to the live audit log at path until ctx
// ends, like tail -F: it survives rotation (the file renamed and a new one
// created) and never reports a record before its line is complete.
func Follow(ctx context.Context, path string, f Filter, poll time.Duration, fn func(*Record) error, bad func(BadLine)) error {
	var (
		fh      *os.File
		info    os.FileInfo
		pending []byte // a line not yet terminated
		lineNo  int
	)
	open := func(seekEnd bool) error {
		var err error
		if fh, err = os.Open(path); err != nil {
			return err
		}
		if info, err = fh.Stat(); err != nil {
			return err
		}
		if seekEnd {
			_, err = fh.Seek(0, io.SeekEnd)
		}
		pending, lineNo = nil, 0
		return err
	}
	if err := open(true); err != nil {
		return err
	}
	defer func() { fh.Close() }()
	buf := make([]byte, 64<<10)
	drain := func() error {
		for {
			n, err := fh.Read(buf)
			if n > 0 {
				pending = append(pending, buf[:n]...)
				if i := bytes.LastIndexByte(pending, '\n'); i >= 0 {
					complete := pending[:i+1]
					read, serr := ScanReader(ctx, bytes.NewReader(complete), path, lineNo, f, fn, bad)
					if serr != nil {
						return serr
					}
					lineNo = read
					pending = append([]byte(nil), pending[i+1:]...)
				}
			}
			if errors.Is(err, io.EOF) || n == 0 {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := drain(); err != nil {
			return err
		}
		// Rotated? Finish the old file, then start the new one from its top.
		if cur, err := os.Stat(path); err == nil && !os.SameFile(cur, info) {
			if err := drain(); err != nil {
				return err
			}
			fh.Close()
			if err := open(false); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
