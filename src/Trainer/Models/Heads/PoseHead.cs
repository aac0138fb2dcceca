using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// Head orientation through the continuous 6D representation (Zhou et al. 2019): two predicted
/// 3-vectors are made orthonormal by Gram-Schmidt and completed by their cross product. Output
/// [N,3,3], a rotation matrix whose columns are the head's axes (x toward its left ear, y down,
/// z toward the back of the head) in camera coordinates (x right, y down, z away from the camera);
/// a face looking into the camera is the identity. Yaw, pitch and roll in degrees follow from it
/// (<see cref="Runtime.Pose.Rotation"/>).
/// </summary>
internal sealed class PoseHead(string name, Backbone backbone, TrunkSize? size = null, string frame = "camera")
    : TrunkHead(nameof(PoseHead), name, backbone, 6, size)
{
    /// <summary>"ray" or "camera": see <see cref="HeadConfig.Frame"/>.</summary>
    public string Frame { get; } = frame;

    private const float Eps = 1e-8f;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        return SixDToMatrix(Raw(features)).MoveToOuterDisposeScope();
    }

    /// <summary>[N,6] → [N,3,3] rotation matrices (columns e1, e2, e3).</summary>
    public static Tensor SixDToMatrix(Tensor sixD)
    {
        using var scope = NewDisposeScope();
        Tensor a = sixD[.., ..3], b = sixD[.., 3..];
        Tensor e1 = a / a.norm(1, keepdim: true).clamp_min(Eps);
        Tensor u = b - ((e1 * b).sum(1, keepdim: true) * e1);
        Tensor e2 = u / u.norm(1, keepdim: true).clamp_min(Eps);
        Tensor e3 = Cross(e1, e2);
        return stack([e1, e2, e3], 2).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => Manifest(OutputName, Frame);

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs) => [EmitSixDToMatrix(g, EmitRaw(g, inputs))];

    /// <summary>The manifest entry of a [N,3,3] rotation output in <paramref name="frame"/> ("ray" or "camera").</summary>
    public static ManifestOutput Manifest(string name, string frame) => new()
    {
        Name = name,
        Kind = OutputKinds.Pose,
        Shape = [-1, 3, 3],
        Representation = "rotation_matrix",
        Frame = frame,
        Coordinates = frame == "ray"
            ? "columns are the head's axes (x toward its left ear, y down, z toward the back of the head) in the axes of a camera turned to look straight at the head centre (Ray(head centre): the smallest rotation of the camera's z axis onto the ray through it); identity = facing that camera; camera rotation = Ray(head centre) R; R = Ry(yaw) Rx(pitch) Rz(roll)"
            : "columns are the head's axes (x toward its left ear, y down, z toward the back of the head) in camera coordinates (x right, y down, z away from the camera); identity = facing the camera; R = Ry(yaw) Rx(pitch) Rz(roll)",
        Activation = "none",
    };

    /// <summary>Emits <see cref="SixDToMatrix"/> of an [N,6] value; returns the [N,3,3] value's name.</summary>
    public static string EmitSixDToMatrix(OnnxGraphBuilder g, string o)
    {
        string a = BoxHead.Slice(g, o, 0, 3), b = BoxHead.Slice(g, o, 3, 6);
        string e1 = Normalize(g, a);
        string dot = g.Node("ReduceSum", [g.Node("Mul", [e1, b]), g.ConstantInt64(1)], Attr("keepdims", 1L));
        string e2 = Normalize(g, g.Node("Sub", [b, g.Node("Mul", [dot, e1])]));
        string e3 = g.Node("Sub", [
            g.Node("Mul", [Roll(g, e1, 1), Roll(g, e2, 2)]),
            g.Node("Mul", [Roll(g, e1, 2), Roll(g, e2, 1)])]);
        string Column(string v) => g.Node("Unsqueeze", [v, g.ConstantInt64(2)]);
        return g.Node("Concat", [Column(e1), Column(e2), Column(e3)], Attr("axis", 2L));
    }

    /// <summary>a × b for [N,3] tensors, as rolled products (the same formula the export writes).</summary>
    private static Tensor Cross(Tensor a, Tensor b)
    {
        using Tensor yzx = tensor(new long[] { 1, 2, 0 }), zxy = tensor(new long[] { 2, 0, 1 });
        return (a.index_select(1, yzx) * b.index_select(1, zxy)) - (a.index_select(1, zxy) * b.index_select(1, yzx));
    }

    private static string Normalize(OnnxGraphBuilder g, string v)
    {
        string norm = g.Node("ReduceL2", [v], Ints("axes", 1L), Attr("keepdims", 1L));
        return g.Node("Div", [v, g.Node("Max", [norm, g.ConstantFloat([], Eps)])]);
    }

    /// <summary>[x, y, z] rotated left by <paramref name="by"/>: 1 gives [y, z, x], 2 gives [z, x, y].
    /// Slices and a Concat rather than a Gather, which OpenCV's dnn cannot run with a dynamic batch.</summary>
    private static string Roll(OnnxGraphBuilder g, string v, long by) =>
        g.Node("Concat", [BoxHead.Slice(g, v, by, 3), BoxHead.Slice(g, v, 0, by)], Attr("axis", 1L));
}
