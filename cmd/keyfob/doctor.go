package main

import (
	"fmt"
	"os"

	"github.com/keyfob/keyfob/daemon/doctor"
)

// cmdDoctor prints doctor's findings, one a line: "ok       …", or
// "problem  …" and its "  fix:   …". Problems make it fail.
func cmdDoctor(e *env, args []string) error {
	if _, err := parseFlags(newFlags("doctor", e), args); err != nil {
		return err
	}
	findings := doctor.Run(doctor.Options{GitHubAPI: os.Getenv("KEYFOB_GITHUB_API")})
	for _, f := range findings {
		if f.Level == doctor.OK {
			fmt.Fprintf(e.stdout, "ok       %s\n", f.Message)
			continue
		}
		fmt.Fprintf(e.stdout, "problem  %s\n", f.Message)
		if f.Hint != "" {
			fmt.Fprintf(e.stdout, "  fix:   %s\n", f.Hint)
		}
	}
	if n := doctor.Problems(findings); n > 0 {
		return fmt.Errorf("doctor found %d problem(s)", n)
	}
	fmt.Fprintln(e.stdout, "no problems found")
	return nil
}
