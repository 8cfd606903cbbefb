package plugboard

import (
	"maps"
	"slices"
)

// ParameterTemplates are Dify's parameter-rule templates
// (PARAMETER_RULE_TEMPLATE), keyed by the name a rule's use_template gives:
// what a rule that names one and leaves a field unset gets. Their labels
// never reach a declaration (a rule without a label is labelled with its
// name first, as in Dify's daemon), but the SDK shows them.
var ParameterTemplates = map[string]ParameterRule{
	"temperature": {
		Label: I18n{"en_US": "Temperature", "zh_Hans": "温度", "ja_JP": "温度", "pt_BR": "Temperatura"},
		Type:  RuleFloat,
		Help: I18n{
			"en_US":   "Controls randomness. Lower temperature results in less random completions. As the temperature approaches zero, the model will become deterministic and repetitive. Higher temperature results in more random completions.",
			"zh_Hans": "温度控制随机性。较低的温度会导致较少的随机完成。随着温度接近零，模型将变得确定性和重复性。较高的温度会导致更多的随机完成。",
			"ja_JP":   "温度はランダム性を制御します。温度が低いほどランダムな完成が少なくなります。温度がゼロに近づくと、モデルは決定論的で繰り返しになります。温度が高いほどランダムな完成が多くなります。",
			"pt_BR":   "A temperatura controla a aleatoriedade. Menores temperaturas resultam em menos conclusões aleatórias. À medida que a temperatura se aproxima de zero, o modelo se tornará determinístico e repetitivo. Temperaturas mais altas resultam em mais conclusões aleatórias.",
		},
		Default: 0.0, Min: ptr(0.0), Max: ptr(1.0), Precision: ptr(2),
	},
	"top_p": {
		Label: I18n{"en_US": "Top P", "zh_Hans": "Top P", "ja_JP": "Top P", "pt_BR": "Top P"},
		Type:  RuleFloat,
		Help: I18n{
			"en_US":   "Controls diversity via nucleus sampling: 0.5 means half of all likelihood-weighted options are considered.",
			"zh_Hans": "通过核心采样控制多样性：0.5表示考虑了一半的所有可能性加权选项。",
			"ja_JP":   "核サンプリングを通じて多様性を制御します：0.5は、すべての可能性加权オプションの半分を考慮します。",
			"pt_BR":   "Controla a diversidade via amostragem de núcleo: 0.5 significa que metade das opções com maior probabilidade são consideradas.",
		},
		Default: 1.0, Min: ptr(0.0), Max: ptr(1.0), Precision: ptr(2),
	},
	"top_k": {
		Label: I18n{"en_US": "Top K", "zh_Hans": "Top K"},
		Type:  RuleInt,
		Help: I18n{
			"en_US":   "Limits the number of tokens to consider for each step by keeping only the k most likely tokens.",
			"zh_Hans": "通过只保留每一步中最可能的 k 个标记来限制要考虑的标记数量。",
		},
		Default: 50, Min: ptr(1.0), Max: ptr(100.0), Precision: ptr(0),
	},
	"presence_penalty": {
		Label: I18n{"en_US": "Presence Penalty", "zh_Hans": "存在惩罚", "ja_JP": "存在ペナルティ", "pt_BR": "Penalidade de presença"},
		Type:  RuleFloat,
		Help: I18n{
			"en_US":   "Applies a penalty to the log-probability of tokens already in the text.",
			"zh_Hans": "对文本中已有的标记的对数概率施加惩罚。",
			"ja_JP":   "テキストに既に存在するトークンの対数確率にペナルティを適用します。",
			"pt_BR":   "Aplica uma penalidade à probabilidade logarítmica de tokens já presentes no texto.",
		},
		Default: 0.0, Min: ptr(0.0), Max: ptr(1.0), Precision: ptr(2),
	},
	"frequency_penalty": {
		Label: I18n{"en_US": "Frequency Penalty", "zh_Hans": "频率惩罚", "ja_JP": "頻度ペナルティ", "pt_BR": "Penalidade de frequência"},
		Type:  RuleFloat,
		Help: I18n{
			"en_US":   "Applies a penalty to the log-probability of tokens that appear in the text.",
			"zh_Hans": "对文本中出现的标记的对数概率施加惩罚。",
			"ja_JP":   "テキストに出現するトークンの対数確率にペナルティを適用します。",
			"pt_BR":   "Aplica uma penalidade à probabilidade logarítmica de tokens que aparecem no texto.",
		},
		Default: 0.0, Min: ptr(0.0), Max: ptr(1.0), Precision: ptr(2),
	},
	"max_tokens": {
		Label:   I18n{"en_US": "Max Tokens", "zh_Hans": "最大标记", "ja_JP": "最大トークン", "pt_BR": "Máximo de tokens"},
		Type:    RuleInt,
		Help:    maxTokensHelp,
		Default: 64, Min: ptr(1.0), Max: ptr(2048.0), Precision: ptr(0),
	},
	// max_completion_tokens is in later versions of Dify's daemon.
	"max_completion_tokens": {
		Label:   I18n{"en_US": "Max Completion Tokens", "zh_Hans": "最大完成标记", "ja_JP": "最大完了トークン", "pt_BR": "Máximo de tokens de conclusão"},
		Type:    RuleInt,
		Help:    maxTokensHelp,
		Default: 64, Min: ptr(1.0), Max: ptr(2048.0), Precision: ptr(0),
	},
	"response_format": {
		Label: I18n{"en_US": "Response Format", "zh_Hans": "回复格式", "ja_JP": "応答形式", "pt_BR": "Formato de resposta"},
		Type:  RuleString,
		Help: I18n{
			"en_US":   "Set a response format, ensure the output from llm is a valid code block as possible, such as JSON, XML, etc.",
			"zh_Hans": "设置一个返回格式，确保llm的输出尽可能是有效的代码块，如JSON、XML等",
			"ja_JP":   "応答形式を設定します。llmの出力が可能な限り有効なコードブロックであることを確認します。",
			"pt_BR":   "Defina um formato de resposta para garantir que a saída do llm seja um bloco de código válido o mais possível, como JSON, XML, etc.",
		},
		Options: []string{"JSON", "XML"},
	},
	"json_schema": {
		Label: I18n{"en_US": "JSON Schema"},
		Type:  RuleString,
		Help: I18n{
			"en_US":   "Set a response json schema will ensure LLM to adhere it.",
			"zh_Hans": "设置返回的json schema，llm将按照它返回",
		},
	},
}

// maxTokensHelp is the help of the max_tokens templates.
var maxTokensHelp = I18n{
	"en_US":   "Specifies the upper limit on the length of generated results. If the generated results are truncated, you can increase this parameter.",
	"zh_Hans": "指定生成结果长度的上限。如果生成结果截断，可以调大该参数。",
	"ja_JP":   "生成結果の長さの上限を指定します。生成結果が切り捨てられた場合は、このパラメータを大きくすることができます。",
	"pt_BR":   "Especifica o limite superior para o comprimento dos resultados gerados. Se os resultados gerados forem truncados, você pode aumentar este parâmetro.",
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// ApplyTemplate fills the rule as Dify's daemon does (TransformTemplate): a
// rule without an English label is labelled with its name, then every field
// it leaves unset is taken from the template UseTemplate names, and options
// are [] when neither gives any. A template that does not exist is an
// EINVALID error. The SDK does the same for a customizable model's schema.
func (r *ParameterRule) ApplyTemplate() error {
	if r.Label.English() == "" {
		r.Label = I18n{"en_US": r.Name}
	}
	if r.UseTemplate != "" {
		t, ok := ParameterTemplates[r.UseTemplate]
		if !ok {
			return Errorf(EINVALID, "use_template %q is not one of Dify's parameter templates", r.UseTemplate)
		}
		r.fillFrom(t)
	}
	if r.Options == nil {
		r.Options = []string{}
	}
	return nil
}

// fillFrom sets the fields r leaves unset from template t.
func (r *ParameterRule) fillFrom(t ParameterRule) {
	if r.Type == "" {
		r.Type = t.Type
	}
	if r.Help == nil {
		r.Help = maps.Clone(t.Help)
	}
	if r.Default == nil {
		r.Default = t.Default
	}
	if r.Min == nil {
		r.Min = t.Min
	}
	if r.Max == nil {
		r.Max = t.Max
	}
	if r.Precision == nil {
		r.Precision = t.Precision
	}
	if r.Options == nil {
		r.Options = slices.Clone(t.Options)
	}
}
