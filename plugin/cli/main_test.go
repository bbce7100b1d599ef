package cli

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// asDockward makes the test binary run as dockward itself (main.go's exit
// handling), so a test can run the command in a working directory of its
// own without changing the test process's (check of compose.yaml reads it).
const asDockward = "DOCKWARD_CLI_TEST_AS_DOCKWARD"

func TestMain(m *testing.M) {
	if os.Getenv(asDockward) == "1" {
		root := newRoot()
		root.SetArgs(os.Args[1:])
		if err := root.Execute(); err != nil {
			var ee *ExitError
			if errors.As(err, &ee) {
				if !ee.Silent {
					fmt.Fprintln(os.Stderr, "dockward:", err)
				}
				os.Exit(ee.Code)
			}
			fmt.Fprintln(os.Stderr, "dockward:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
