using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Models.Heads.Kinds;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models;

/// <summary>
/// A backbone and any combination of heads, built from a <see cref="ModelConfig"/>. forward()
/// returns one tensor per head, in the config's order; state_dict names are "backbone.*" and
/// "heads.{name}.*".
/// </summary>
internal sealed class MultiHeadNet : Module<Tensor, Tensor[]>, IOnnxExportable
{
    private readonly Backbone backbone;
    private readonly ModuleDict<Head> heads;

    public MultiHeadNet(ModelConfig config)
        : base(nameof(MultiHeadNet))
    {
        config.Validate("model config");
        Config = config;
        backbone = BackboneRegistry.Create(config.Backbone, config.InputSize);
        heads = new ModuleDict<Head>();
        var trunk = new TrunkSize(config.TrunkReduced, config.TrunkHidden);
        foreach (HeadConfig h in config.Heads)
        {
            heads.Add(h.OutputName, CreateHead(h, backbone, trunk));
        }

        RegisterComponents();
    }

    public ModelConfig Config { get; }

    public Backbone Backbone => backbone;

    public IReadOnlyList<Head> Heads => [.. heads.values()];

    public override Tensor[] forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor[] features = backbone.forward(x);
        Tensor[] outputs = [.. heads.values().Select(h => h.forward(h.TakesInput ? [x, .. features] : features))];
        foreach (Tensor o in outputs)
        {
            o.MoveToOuterDisposeScope();
        }

        return outputs;
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string[] features = g.Emit(backbone, inputs, nameof(backbone));
        return [.. heads.keys().Select(k => g.Emit(heads[k], heads[k].TakesInput ? [inputs[0], .. features] : features, $"{nameof(heads)}.{k}").Single())];
    }

    /// <summary>The manifest this model's export carries.</summary>
    public ModelManifest Manifest()
    {
        Preprocessing p = backbone.Preprocessing;
        return new ModelManifest
        {
            Name = Config.Name,
            Architecture = $"{backbone.ArchitectureName}+{string.Join("+", Config.Heads.Select(h => h.Kind))}",
            Input = new ManifestInput
            {
                Name = "input",
                Shape = [-1, 3, p.Height, p.Width],
                Layout = "NCHW",
                ColorOrder = "RGB",
                Scale = p.Scale,
                Mean = p.Mean,
                Std = p.Std,
                Resize = InputTransform.Letterbox,
                Interpolation = InputTransform.Area,
            },
            Outputs = [.. heads.values().Select(h => h.Describe())],
        };
    }

    private static Head CreateHead(HeadConfig h, Backbone backbone, TrunkSize trunk) => HeadKinds.Of(h.Kind).Create(h, backbone, trunk);
}
