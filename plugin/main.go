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
		fmt.Fprintln(os.Stderr, "dockward:", err)
		var ee *cli.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.Code)
		}
		os.Exit(1)
	}
}
