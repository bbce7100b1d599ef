// Command dockward is a Docker Engine authorization plugin that admits only
// hardened containers. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/dockward/dockward/plugin/cli"
)

func main() {
	if err := cli.Execute(); err != nil {
		// Scripts rely on the exit codes each command documents (conftest
		// and Regal do the same with a typed exit error).
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			if !ee.Silent {
				fmt.Fprintln(os.Stderr, "dockward:", err)
			}
			os.Exit(ee.Code)
		}
		fmt.Fprintln(os.Stderr, "dockward:", err)
		os.Exit(1)
	}
}
