package report

import (
	"errors"
	"fmt"

	"github.com/fdcmdie/fdcmdie/train"
)

// validateRows checks every row and that there is at least one.
func validateRows(rows []train.Row) error {
	if len(rows) == 0 {
		return errors.New("no rows")
	}
	for i, r := range rows {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return nil
}
