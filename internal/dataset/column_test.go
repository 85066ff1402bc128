package dataset

import (
	"fmt"
	"testing"
)

// TestFrameColumnIndex: lookups by name stay right when the columns are
// changed after the first lookup built the index.
func TestFrameColumnIndex(t *testing.T) {
	t.Parallel()
	f := &Frame{}
	for i := range 3000 {
		f.Columns = append(f.Columns, &Column{Name: fmt.Sprintf("c%d", i)})
	}
	for _, name := range []string{"c0", "c1500", "c2999"} {
		if c, ok := f.Column(name); !ok || c.Name != name {
			t.Fatalf("Column(%q) = %v, %v", name, c, ok)
		}
	}
	if _, ok := f.Column("nope"); ok {
		t.Fatal("found a column that does not exist")
	}
	f.Columns = append(f.Columns, &Column{Name: "late"})
	if c, ok := f.Column("late"); !ok || c.Name != "late" {
		t.Fatalf("a column added after the first lookup: %v, %v", c, ok)
	}
	f.Columns[0], f.Columns[1] = f.Columns[1], f.Columns[0]
	if c, ok := f.Column("c0"); !ok || c.Name != "c0" {
		t.Fatalf("a moved column: %v, %v", c, ok)
	}
	f.Columns = f.Columns[:10]
	if _, ok := f.Column("c2999"); ok {
		t.Fatal("found a column that was removed")
	}
}

// BenchmarkFrameColumnWide looks up every column of a 10,000-column frame.
func BenchmarkFrameColumnWide(b *testing.B) {
	f := &Frame{}
	var names []string
	for i := range 10_000 {
		names = append(names, fmt.Sprintf("c%d", i))
		f.Columns = append(f.Columns, &Column{Name: names[i]})
	}
	for b.Loop() {
		for _, n := range names {
			if _, ok := f.Column(n); !ok {
				b.Fatal(n)
			}
		}
	}
}
