package route

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestWriteRouteTable: every write route the plugin routes is accounted
// for in policies/README.md's "Write routes" table (with the rule that
// judges it, or why it grants nothing), and the table names no route the
// plugin does not route, with the same endpoint name.
func TestWriteRouteTable(t *testing.T) {
	t.Parallel()
	table := readWriteRouteTable(t, "../../policies/README.md")
	if len(table) == 0 {
		t.Fatal("no rows in the Write routes table of policies/README.md")
	}
	routed := map[string]string{}
	for _, e := range endpoints {
		if e.method == "GET" || e.method == "HEAD" {
			continue
		}
		key := e.method + " " + e.pattern
		routed[key] = e.name
		name, ok := table[key]
		switch {
		case !ok:
			t.Errorf("endpoints.go routes %s (%s); the Write routes table of policies/README.md lacks it", key, e.name)
		case name != e.name:
			t.Errorf("%s is %s in endpoints.go but %s in the table", key, e.name, name)
		}
	}
	for key := range table {
		if _, ok := routed[key]; !ok {
			t.Errorf("the Write routes table names %s, which endpoints.go does not route", key)
		}
	}
}

// readWriteRouteTable reads "| METHOD | `path` | `endpoint` | judged by |"
// rows of the "## Write routes" section; a row without a judgement fails.
func readWriteRouteTable(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Write routes"
			continue
		}
		if !in || !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Errorf("table row with %d cells, want 4: %s", len(cells), line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		method := cells[0]
		if method == "method" || strings.HasPrefix(method, "---") {
			continue
		}
		key := method + " " + strings.Trim(cells[1], "`")
		if _, dup := rows[key]; dup {
			t.Errorf("the table names %s twice", key)
		}
		if cells[3] == "" {
			t.Errorf("%s: no judgement", key)
		}
		rows[key] = strings.Trim(cells[2], "`")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
