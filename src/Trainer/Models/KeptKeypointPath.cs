using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models;

/// <summary>
/// BlazeFace's keypoint path kept as imported (<see cref="ModelConfig.KeepKeypoints"/>): a copy of
/// the BlazeFace backbone's blocks after its stride-4 (or stride-8) feature map, which never
/// trains, so that the keypoint head (BlazeFace's own detector layers) reads the features it was
/// made for while the other heads learn on the backbone's blocks. The stem and the blocks up to
/// that map are shared and never train either. forward() takes the backbone's feature maps and
/// returns them with the later maps (stride 8 and 16, or 16) replaced by this path's. State names:
/// blocks.{i} (i from 0, block <see cref="From"/> + i of the backbone).
/// </summary>
internal sealed class KeptKeypointPath : Module<Tensor[], Tensor[]>, IOnnxExportable
{
    /// <summary>The strides of the feature maps a kept path can start after.</summary>
    public static readonly int[] Strides = [4, 8];

    private readonly ModuleList<BlazeBlock> blocks;

    /// <param name="afterStride">The stride of the backbone's map the copy starts after, one of
    /// <see cref="Strides"/>.</param>
    public KeptKeypointPath(int afterStride)
        : base(nameof(KeptKeypointPath))
    {
        // The backbone's feature maps are at strides 2, 4, 8, 16 (one per tap).
        Tap = Array.IndexOf(Strides, afterStride) is >= 0 and var s ? s + 1 : throw new ArgumentOutOfRangeException(nameof(afterStride), afterStride, $"one of {string.Join(", ", Strides)}");
        From = BlazeFaceBackbone.Taps[Tap] + 1;
        blocks = new ModuleList<BlazeBlock>([.. BlazeFaceBackbone.Blocks.Skip(From).Select(b => new BlazeBlock(b.In, b.Out, b.Stride))]);
        RegisterComponents();
    }

    /// <summary>The backbone's feature map (index into its outputs) the path starts from.</summary>
    public int Tap { get; }

    /// <summary>The first backbone block the path copies: the one after that map.</summary>
    public int From { get; }

    /// <summary>Sets the path's blocks to the backbone's (after the backbone took BlazeFace's weights).</summary>
    public void CopyFrom(BlazeFaceBackbone backbone)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < blocks.Count; i++)
        {
            Dictionary<string, Tensor> source = backbone.BlockList[From + i].state_dict();
            foreach ((string name, Tensor t) in blocks[i].state_dict())
            {
                t.copy_(source[name]);
            }
        }
    }

    /// <summary>The backbone's parameters the kept path reads: its stem and the blocks before <see cref="From"/>.</summary>
    public IEnumerable<Parameter> SharedParameters(BlazeFaceBackbone backbone) =>
        [.. backbone.Stem.parameters(), .. backbone.BlockList.Take(From).SelectMany(b => b.parameters())];

    public override Tensor[] forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor h = features[Tap];
        var taps = new List<Tensor>();
        for (int i = 0; i < blocks.Count; i++)
        {
            h = blocks[i].forward(h);
            if (BlazeFaceBackbone.Taps.Contains(From + i))
            {
                taps.Add(h);
            }
        }

        taps.ForEach(t => t.MoveToOuterDisposeScope());
        return [.. features.Take(Tap + 1), .. taps];
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string h = inputs[Tap];
        var taps = new List<string>();
        for (int i = 0; i < blocks.Count; i++)
        {
            h = g.Emit(blocks[i], h, $"{nameof(blocks)}.{i}");
            if (BlazeFaceBackbone.Taps.Contains(From + i))
            {
                taps.Add(h);
            }
        }

        return [.. inputs.Take(Tap + 1), .. taps];
    }
}
