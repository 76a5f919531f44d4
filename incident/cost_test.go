package incident

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestPrice(t *testing.T) {
	m := CostModel{
		Currency: "EUR", Phone: 20, Chat: 8, Email: 4, PerCustomer: 0.5, HourlyRate: 100,
		Churn: map[ChurnRisk]ChurnPrice{
			ChurnNone: {Multiplier: 1}, ChurnLow: {Multiplier: 1.1},
			ChurnMedium: {Multiplier: 1.5}, ChurnHigh: {Multiplier: 2, Amount: 5000},
		},
		Classes: [3]float64{50000, 10000, 1000},
	}
	full := func(churn ChurnRisk) CostInput {
		// 10×20 + 20×8 + 30×4 + 1000×0.5 + 1234.56 + 8×100 = 3014.56
		return CostInput{PhoneContacts: ptr(10), ChatContacts: ptr(20), EmailContacts: ptr(30),
			CustomersAffected: ptr(1000), RevenueLost: ptr(1234.56), EngineeringHours: ptr(8.0), Churn: ptr(churn)}
	}
	tests := []struct {
		name    string
		in      CostInput
		amount  float64
		class   CostClass
		missing []string
	}{
		{"churn none", full(ChurnNone), 3014.56, C3, nil},
		{"churn low", full(ChurnLow), 3316.02, C3, nil},       // 3014.56×1.1 = 3316.016
		{"churn medium", full(ChurnMedium), 4521.84, C3, nil}, // ×1.5
		{"churn high adds an amount", full(ChurnHigh), 11029.12, C2, nil},
		{"nothing entered", CostInput{}, 0, C4,
			[]string{"phone contacts", "chat contacts", "email contacts", "customers affected", "revenue lost", "engineering hours", "churn risk"}},
		{"only revenue", CostInput{RevenueLost: ptr(60000.0)}, 60000, C1,
			[]string{"phone contacts", "chat contacts", "email contacts", "customers affected", "engineering hours", "churn risk"}},
		{"churn without a base costs its amount", CostInput{Churn: ptr(ChurnHigh)}, 5000, C3,
			[]string{"phone contacts", "chat contacts", "email contacts", "customers affected", "revenue lost", "engineering hours"}},
		{"zeros are values, not missing", CostInput{PhoneContacts: ptr(0), ChatContacts: ptr(0), EmailContacts: ptr(0),
			CustomersAffected: ptr(0), RevenueLost: ptr(0.0), EngineeringHours: ptr(0.0), Churn: ptr(ChurnNone)}, 0, C4, nil},
		{"bound is inclusive", CostInput{RevenueLost: ptr(10000.0), Churn: ptr(ChurnNone), PhoneContacts: ptr(0)}, 10000, C2,
			[]string{"chat contacts", "email contacts", "customers affected", "engineering hours"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := m.Price(tt.in)
			if math.Abs(c.Amount-tt.amount) > 1e-9 || c.Class != tt.class || c.Currency != "EUR" {
				t.Errorf("Price = %v %s %s, want %v %s EUR", c.Amount, c.Class, c.Currency, tt.amount, tt.class)
			}
			if got := tt.in.Missing(); !slices.Equal(got, tt.missing) {
				t.Errorf("Missing = %q, want %q", got, tt.missing)
			}
		})
	}
}

func TestCostInputValidate(t *testing.T) {
	tests := []struct {
		in    CostInput
		field string
	}{
		{CostInput{PhoneContacts: ptr(-1)}, "phone"},
		{CostInput{CustomersAffected: ptr(-3)}, "customers"},
		{CostInput{RevenueLost: ptr(-0.01)}, "revenue"},
		{CostInput{EngineeringHours: ptr(math.NaN())}, "hours"},
		{CostInput{Churn: ptr(ChurnRisk("extreme"))}, "churn"},
		{CostInput{PhoneContacts: ptr(3), Churn: ptr(ChurnLow)}, ""},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		var fe *FieldError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tt.in, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
			t.Errorf("Validate(%+v) = %v, want a FieldError on %s", tt.in, err, tt.field)
		}
	}
}

func TestCostModelValidate(t *testing.T) {
	if err := DefaultCostModel().Validate(); err != nil {
		t.Fatalf("default model: %v", err)
	}
	bad := DefaultCostModel()
	bad.Classes = [3]float64{1000, 10000, 50000}
	if err := bad.Validate(); err == nil {
		t.Error("ascending class bounds accepted")
	}
	bad = DefaultCostModel()
	bad.Phone = -1
	if err := bad.Validate(); err == nil {
		t.Error("negative price accepted")
	}
}

func TestFormatMoney(t *testing.T) {
	for _, tt := range []struct {
		amount float64
		want   string
	}{
		{0, "USD 0"}, {999, "USD 999"}, {1000, "USD 1,000"}, {1234567.5, "USD 1,234,567.50"},
		{12.345, "USD 12.35"}, {-2500, "USD -2,500"},
	} {
		if got := FormatMoney("USD", tt.amount); got != tt.want {
			t.Errorf("FormatMoney(%v) = %q, want %q", tt.amount, got, tt.want)
		}
	}
}

func TestCostDescribe(t *testing.T) {
	c := DefaultCostModel().Price(CostInput{PhoneContacts: ptr(4), Churn: ptr(ChurnLow)})
	want := "Customer cost USD 110 (C4): 4 phone, churn risk low; not entered: chat contacts, email contacts, customers affected, revenue lost, engineering hours"
	if got := c.Describe(); got != want {
		t.Errorf("Describe =\n%s\nwant\n%s", got, want)
	}
}
