package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"vmsim/vm/exercise"
)

// childCommand is the hidden command that runs the second process of the
// two-process exercises. Go cannot fork: vmsim starts itself again with it.
const childCommand = "exercise-child"

func newExerciseChild() *cobra.Command {
	return &cobra.Command{
		Use:   childCommand + " ARGS...",
		Short: "The second process of a two-process exercise (started by vmsim itself)",
		Long: `vmsim starts itself with this command to run the child process of the
shared-file and shared-anon exercises, with the pipes (and memfd) they pass as
descriptors 3, 4 and 5. It is not meant to be run by hand.`,
		Example:            `  vmsim exercise-child shared-file --file /tmp/f   # with descriptors 3 and 4 set up`,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exercise.RunChild(args)
		},
	}
}

// spawnSelf is the exercises' Spawner: this program, in child mode.
func spawnSelf(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start it again: %w", err)
	}
	return exec.Command(exe, append([]string{childCommand}, args...)...), nil
}
