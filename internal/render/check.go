package render

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
)

// defineRE finds {{define}} and {{block}} actions. It may also match inside a
// string literal of another action, which only makes Parse refuse more.
var defineRE = regexp.MustCompile(`\{\{-?\s*(define|block)\b`)

// findDefine returns the line of the first {{define}} or {{block}} in text.
// Checking the text, not the parsed set, also catches a define whose name is
// the template's own (text/template would silently use it as the body).
func findDefine(text string) (line int, what string, ok bool) {
	m := defineRE.FindStringSubmatchIndex(text)
	if m == nil {
		return 0, "", false
	}
	return 1 + strings.Count(text[:m[0]], "\n"), text[m[2]:m[3]], true
}

// checker walks a parse tree, refuses what is not allowed, rewrites every
// range to go through the guard, and collects the top-level variables.
type checker struct {
	name     string
	text     string
	tree     *parse.Tree
	maxDepth int
	vars     map[string]bool
}

func (c *checker) check() error { return c.walk(c.tree.Root, 0, true) }

func (c *checker) varNames() []string {
	names := make([]string, 0, len(c.vars))
	for n := range c.vars {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *checker) errAt(n parse.Node, format string, args ...any) error {
	p := min(max(int(n.Position()), 0), len(c.text))
	return &ParseError{Name: c.name, Line: 1 + strings.Count(c.text[:p], "\n"), Msg: fmt.Sprintf(format, args...)}
}

// walk checks n. depth counts enclosing control structures; root says
// whether dot is still the variables map.
func (c *checker) walk(n parse.Node, depth int, root bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, x := range n.Nodes {
			if err := c.walk(x, depth, root); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		return nil
	case *parse.ActionNode:
		return c.pipe(n.Pipe, root)
	case *parse.IfNode:
		return c.branch(n, &n.BranchNode, depth, root, root)
	case *parse.WithNode:
		return c.branch(n, &n.BranchNode, depth, root, false)
	case *parse.RangeNode:
		if err := c.rangeOver(n); err != nil {
			return err
		}
		if err := c.branch(n, &n.BranchNode, depth, root, false); err != nil {
			return err
		}
		c.guard(n)
		return nil
	case *parse.TemplateNode:
		return c.errAt(n, "{{template %q}} is not allowed (one template, no sub-templates)", n.Name)
	}
	return c.errAt(n, "%s is not allowed", n)
}

func (c *checker) branch(n parse.Node, b *parse.BranchNode, depth int, root, bodyRoot bool) error {
	if depth >= c.maxDepth {
		return c.errAt(n, "if/with/range nested more than %d deep", c.maxDepth)
	}
	if err := c.pipe(b.Pipe, root); err != nil {
		return err
	}
	if err := c.walk(b.List, depth+1, bodyRoot); err != nil {
		return err
	}
	// else runs with the enclosing dot.
	return c.walk(b.ElseList, depth+1, root)
}

func (c *checker) pipe(p *parse.PipeNode, root bool) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		// A literal printf format is checked now, so the error names
		// the line.
		if len(cmd.Args) > 1 {
			if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "printf" {
				if f, ok := cmd.Args[1].(*parse.StringNode); ok {
					if err := checkFormat(f.Text); err != nil {
						return c.errAt(f, "%v", err)
					}
				}
			}
		}
		for _, a := range cmd.Args {
			if err := c.arg(a, root); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) arg(n parse.Node, root bool) error {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if !isAllowedFunc(n.Ident) {
			return c.errAt(n, "function %q is not allowed (allowed: %s)", n.Ident, allowedFuncNames())
		}
	case *parse.FieldNode:
		if root {
			c.vars[n.Ident[0]] = true
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			c.vars[n.Ident[1]] = true
		}
	case *parse.ChainNode:
		return c.arg(n.Node, root)
	case *parse.PipeNode:
		return c.pipe(n, root)
	case *parse.DotNode, *parse.NilNode, *parse.BoolNode, *parse.NumberNode, *parse.StringNode:
	default:
		return c.errAt(n, "%s is not allowed", n)
	}
	return nil
}

// rangeOver refuses a range over a literal: {{range 1000000}} and the like.
// What a range reaches at run time is bounded by the guard.
func (c *checker) rangeOver(r *parse.RangeNode) error {
	var n parse.Node = r.Pipe
	for {
		p, ok := n.(*parse.PipeNode)
		if !ok || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
			break
		}
		n = p.Cmds[0].Args[0]
	}
	switch n.(type) {
	case *parse.NumberNode, *parse.StringNode, *parse.BoolNode, *parse.NilNode:
		return c.errAt(r, "range over the literal %s is not allowed; range over a list or map variable", n)
	}
	return nil
}

// guard appends the guard function to the range's pipeline, so that
// {{range .x}} runs as {{range .x | range_limit}}, and starts the body with
// {{range_tick}}, which prints nothing but checks the deadline on every
// iteration.
func (c *checker) guard(r *parse.RangeNode) {
	pos := r.Pipe.Position()
	id := parse.NewIdentifier(guardFunc).SetTree(c.tree).SetPos(pos)
	r.Pipe.Cmds = append(r.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}})
	if r.List == nil {
		return
	}
	tick := parse.NewIdentifier(tickFunc).SetTree(c.tree).SetPos(pos)
	action := &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Line: r.Line, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Pos: pos, Line: r.Line,
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{tick}}},
	}}
	r.List.Nodes = append([]parse.Node{action}, r.List.Nodes...)
}
