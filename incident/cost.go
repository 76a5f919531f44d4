package incident

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ChurnRisk is how likely the incident makes customers leave.
type ChurnRisk string

// The churn risks, mildest first.
const (
	ChurnNone   ChurnRisk = "none"
	ChurnLow    ChurnRisk = "low"
	ChurnMedium ChurnRisk = "medium"
	ChurnHigh   ChurnRisk = "high"
)

// ChurnRisks lists the churn risks, mildest first.
func ChurnRisks() []ChurnRisk { return []ChurnRisk{ChurnNone, ChurnLow, ChurnMedium, ChurnHigh} }

// ParseChurnRisk reads a churn risk, case-insensitive.
func ParseChurnRisk(text string) (ChurnRisk, error) {
	r := ChurnRisk(strings.ToLower(strings.TrimSpace(text)))
	for _, known := range ChurnRisks() {
		if r == known {
			return r, nil
		}
	}
	return "", fmt.Errorf("churn risk %q is not one of none, low, medium, high", text)
}

// CostInput is what people know of an incident's customer cost. A nil field
// was not entered: it adds nothing to the cost and is listed as missing, so
// a report never passes an unknown off as zero.
type CostInput struct {
	PhoneContacts     *int       `json:"phone,omitempty"`
	ChatContacts      *int       `json:"chat,omitempty"`
	EmailContacts     *int       `json:"email,omitempty"`
	CustomersAffected *int       `json:"customers,omitempty"`
	RevenueLost       *float64   `json:"revenue,omitempty"`
	EngineeringHours  *float64   `json:"hours,omitempty"`
	Churn             *ChurnRisk `json:"churn,omitempty"`
}

// Missing names the fields not entered, in form order.
func (in CostInput) Missing() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"phone contacts", in.PhoneContacts != nil}, {"chat contacts", in.ChatContacts != nil},
		{"email contacts", in.EmailContacts != nil}, {"customers affected", in.CustomersAffected != nil},
		{"revenue lost", in.RevenueLost != nil}, {"engineering hours", in.EngineeringHours != nil},
		{"churn risk", in.Churn != nil},
	} {
		if !f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// MaxAmount bounds an amount of a cost (revenue lost, engineering hours):
// anything larger is a typo, and would swamp every ranking.
const MaxAmount = 1e12

// Validate refuses negative numbers, amounts above MaxAmount and unknown
// churn risks. Its error is a *FieldError naming the field.
func (in CostInput) Validate() error {
	for _, f := range []struct {
		field string
		v     *int
	}{{"phone", in.PhoneContacts}, {"chat", in.ChatContacts}, {"email", in.EmailContacts}, {"customers", in.CustomersAffected}} {
		if f.v != nil && *f.v < 0 {
			return &FieldError{f.field, fmt.Sprintf("%d is negative: write a count of 0 or more", *f.v)}
		}
	}
	for _, f := range []struct {
		field string
		v     *float64
	}{{"revenue", in.RevenueLost}, {"hours", in.EngineeringHours}} {
		if f.v != nil && (*f.v < 0 || math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return &FieldError{f.field, fmt.Sprintf("%v is not an amount: write 0 or more, e.g. 1250.50", *f.v)}
		}
		if f.v != nil && *f.v > MaxAmount {
			return &FieldError{f.field, fmt.Sprintf("%s is more than the largest amount sitrep takes, %s", FormatMoney("", *f.v), FormatMoney("", MaxAmount))}
		}
	}
	if in.Churn != nil {
		if _, err := ParseChurnRisk(string(*in.Churn)); err != nil {
			return &FieldError{"churn", err.Error()}
		}
	}
	return nil
}

// Empty reports whether nothing was entered.
func (in CostInput) Empty() bool { return len(in.Missing()) == 7 }

// CostClass ranks an incident by its customer cost: C1 is the costliest.
type CostClass int

// The cost classes.
const (
	C1 CostClass = 1
	C2 CostClass = 2
	C3 CostClass = 3
	C4 CostClass = 4
)

// String returns "C1".."C4".
func (c CostClass) String() string { return "C" + strconv.Itoa(int(c)) }

// ChurnPrice prices one churn risk: the cost before churn is multiplied by
// Multiplier (0 means 1) and then Amount is added.
type ChurnPrice struct {
	Multiplier float64
	Amount     float64
}

// CostModel prices an incident's customer cost.
type CostModel struct {
	// Currency is shown with amounts, e.g. "USD".
	Currency string
	// Phone, Chat and Email are the price of one customer contact of each
	// kind; PerCustomer the price of each customer affected.
	Phone, Chat, Email, PerCustomer float64
	// HourlyRate prices an engineering hour.
	HourlyRate float64
	// Churn prices each churn risk; a risk not in the map costs nothing.
	Churn map[ChurnRisk]ChurnPrice
	// Classes are the lower bounds of C1, C2 and C3, descending; a cost
	// below the C3 bound is C4.
	Classes [3]float64
}

// DefaultCostModel is the cost model used when the configuration sets none.
func DefaultCostModel() CostModel {
	return CostModel{
		Currency: "USD", Phone: 25, Chat: 10, Email: 5, HourlyRate: 150,
		Churn: map[ChurnRisk]ChurnPrice{
			ChurnNone: {Multiplier: 1}, ChurnLow: {Multiplier: 1.1},
			ChurnMedium: {Multiplier: 1.25}, ChurnHigh: {Multiplier: 1.5},
		},
		Classes: [3]float64{50000, 10000, 1000},
	}
}

// Validate checks the prices are not negative and the class bounds descend.
func (m CostModel) Validate() error {
	for name, v := range map[string]float64{"phone": m.Phone, "chat": m.Chat, "email": m.Email,
		"per_customer": m.PerCustomer, "hourly_rate": m.HourlyRate} {
		if v < 0 || math.IsNaN(v) {
			return fmt.Errorf("cost.%s %v is negative: prices are 0 or more", name, v)
		}
	}
	for risk, p := range m.Churn {
		if p.Multiplier < 0 || p.Amount < 0 {
			return fmt.Errorf("cost.churn.%s: multiplier and amount are 0 or more", risk)
		}
	}
	c := m.Classes
	if !(c[0] > c[1] && c[1] > c[2] && c[2] > 0) {
		return fmt.Errorf("cost.classes: c1 > c2 > c3 > 0 is needed (got %v, %v, %v)", c[0], c[1], c[2])
	}
	return nil
}

// Class returns the class of a cost.
func (m CostModel) Class(amount float64) CostClass {
	for i, bound := range m.Classes {
		if amount >= bound {
			return CostClass(i + 1)
		}
	}
	return C4
}

// Cost is an incident's customer cost as entered and priced.
type Cost struct {
	Input CostInput `json:"input"`
	// Amount is the priced total, rounded to cents; Class its class.
	Amount float64   `json:"amount"`
	Class  CostClass `json:"class"`
	// Currency is the model's currency when it was priced.
	Currency string    `json:"currency"`
	SetBy    string    `json:"set_by"`
	SetAt    time.Time `json:"set_at"`
}

// Price computes the cost of in: contacts at their prices, customers
// affected, revenue lost and engineering hours, then the churn risk's
// multiplier and amount. Fields not entered add nothing.
func (m CostModel) Price(in CostInput) Cost {
	base := float64(deref(in.PhoneContacts))*m.Phone + float64(deref(in.ChatContacts))*m.Chat +
		float64(deref(in.EmailContacts))*m.Email + float64(deref(in.CustomersAffected))*m.PerCustomer +
		deref(in.RevenueLost) + deref(in.EngineeringHours)*m.HourlyRate
	total := base
	if in.Churn != nil {
		p := m.Churn[*in.Churn]
		if p.Multiplier > 0 {
			total *= p.Multiplier
		}
		total += p.Amount
	}
	total = math.Round(total*100) / 100
	return Cost{Input: in, Amount: total, Class: m.Class(total), Currency: m.Currency}
}

func deref[T int | float64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}

// FormatMoney writes an amount with thousands separators, "USD 12,340" or
// "USD 12,340.50" when it has cents.
func FormatMoney(currency string, amount float64) string {
	neg := amount < 0
	cents := int64(math.Round(math.Abs(amount) * 100))
	whole, frac := cents/100, cents%100
	digits := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	s := b.String()
	if frac != 0 {
		s += fmt.Sprintf(".%02d", frac)
	}
	if neg {
		s = "-" + s
	}
	if currency == "" {
		return s
	}
	return currency + " " + s
}

// Label writes the amount and class, "USD 12,340 (C2)".
func (c Cost) Label() string {
	return FormatMoney(c.Currency, c.Amount) + " (" + c.Class.String() + ")"
}

// Describe writes the cost for the timeline: amount, class, what was
// entered and what is missing.
func (c Cost) Describe() string {
	in := c.Input
	var parts []string
	add := func(ok bool, s string) {
		if ok {
			parts = append(parts, s)
		}
	}
	add(in.PhoneContacts != nil, fmt.Sprintf("%d phone", deref(in.PhoneContacts)))
	add(in.ChatContacts != nil, fmt.Sprintf("%d chat", deref(in.ChatContacts)))
	add(in.EmailContacts != nil, fmt.Sprintf("%d email", deref(in.EmailContacts)))
	add(in.CustomersAffected != nil, fmt.Sprintf("%d customers affected", deref(in.CustomersAffected)))
	add(in.RevenueLost != nil, "revenue lost "+FormatMoney(c.Currency, deref(in.RevenueLost)))
	add(in.EngineeringHours != nil, strconv.FormatFloat(deref(in.EngineeringHours), 'f', -1, 64)+" engineering hours")
	add(in.Churn != nil, fmt.Sprintf("churn risk %s", derefChurn(in.Churn)))
	text := "Customer cost " + c.Label()
	if len(parts) > 0 {
		text += ": " + strings.Join(parts, ", ")
	}
	if missing := in.Missing(); len(missing) > 0 {
		text += "; not entered: " + strings.Join(missing, ", ")
	}
	return text
}

func derefChurn(p *ChurnRisk) ChurnRisk {
	if p == nil {
		return ""
	}
	return *p
}
