using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>A triangle mesh in the head frame (centimetres; x toward the head's left ear, y down,
/// z toward the back of the head), with texture coordinates and per-vertex normals.</summary>
internal sealed class Mesh
{
    /// <param name="outward">For a vertex position, a direction roughly out of the surface; the
    /// normals are flipped as a whole when most of them disagree (the winding is then inward).</param>
    public Mesh(float[] positions, float[] uvs, int[] triangles, Func<float, float, float, (float X, float Y, float Z)> outward)
    {
        if (positions.Length % 3 != 0 || uvs.Length / 2 != positions.Length / 3 || triangles.Length % 3 != 0)
        {
            throw new ArgumentException("mesh arrays do not agree in size");
        }

        Positions = positions;
        Uvs = uvs;
        Triangles = triangles;
        Normals = ComputeNormals(positions, triangles);
        double agreement = 0;
        for (int i = 0; i < positions.Length; i += 3)
        {
            (float hx, float hy, float hz) = outward(positions[i], positions[i + 1], positions[i + 2]);
            agreement += (Normals[i] * hx) + (Normals[i + 1] * hy) + (Normals[i + 2] * hz);
        }

        if (agreement < 0)
        {
            for (int i = 0; i < Normals.Length; i++)
            {
                Normals[i] = -Normals[i];
            }
        }
    }

    /// <summary>x, y, z per vertex.</summary>
    public float[] Positions { get; }

    /// <summary>u, v per vertex, in [0, 1], v down.</summary>
    public float[] Uvs { get; }

    /// <summary>Three vertex indices per triangle.</summary>
    public int[] Triangles { get; }

    /// <summary>Unit normals per vertex, pointing out of the surface.</summary>
    public float[] Normals { get; }

    public int VertexCount => Positions.Length / 3;

    /// <summary>An ellipsoid around <paramref name="centre"/>, u around the vertical axis, v from top to bottom.</summary>
    public static Mesh Ellipsoid((float X, float Y, float Z) centre, (float X, float Y, float Z) radii, int slices, int stacks)
    {
        var p = new List<float>();
        var uv = new List<float>();
        for (int i = 0; i <= stacks; i++)
        {
            double theta = Math.PI * i / stacks; // 0 at the top (y = -radius: y points down)
            for (int j = 0; j <= slices; j++)
            {
                double phi = 2 * Math.PI * j / slices;
                p.Add(centre.X + (radii.X * (float)(Math.Sin(theta) * Math.Sin(phi))));
                p.Add(centre.Y - (radii.Y * (float)Math.Cos(theta)));
                p.Add(centre.Z - (radii.Z * (float)(Math.Sin(theta) * Math.Cos(phi))));
                uv.Add((float)j / slices);
                uv.Add((float)i / stacks);
            }
        }

        return new Mesh([.. p], [.. uv], Grid(slices, stacks), (x, y, z) => (x - centre.X, y - centre.Y, z - centre.Z));
    }

    /// <summary>A vertical open cylinder (a neck) from <paramref name="top"/> down by <paramref name="length"/>.</summary>
    public static Mesh Cylinder((float X, float Y, float Z) top, float radius, float length, int slices)
    {
        var p = new List<float>();
        var uv = new List<float>();
        for (int i = 0; i <= 1; i++)
        {
            for (int j = 0; j <= slices; j++)
            {
                double phi = 2 * Math.PI * j / slices;
                p.Add(top.X + (radius * (float)Math.Sin(phi)));
                p.Add(top.Y + (i * length));
                p.Add(top.Z - (radius * (float)Math.Cos(phi)));
                uv.Add((float)j / slices);
                uv.Add(i);
            }
        }

        return new Mesh([.. p], [.. uv], Grid(slices, 1), (x, _, z) => (x - top.X, 0, z - top.Z));
    }

    /// <summary>
    /// MediaPipe's canonical face mesh from geometry_pipeline_metadata_landmarks.binarypb: 468
    /// vertices (x, y, z in cm with y up and z out of the face, then u, v) and 898 triangles.
    /// Converted to the head frame (y down, z backward).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not that mesh; the message names it.</exception>
    public static Mesh LoadCanonicalFace(string path)
    {
        var vertices = new List<float>();
        var indices = new List<int>();
        try
        {
            var outer = new CodedInputStream(File.ReadAllBytes(path));
            uint tag;
            while ((tag = outer.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 1 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    outer.SkipLastField();
                    continue;
                }

                var mesh = new CodedInputStream(outer.ReadBytes().ToByteArray());
                while ((tag = mesh.ReadTag()) != 0)
                {
                    switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
                    {
                        case (3, WireFormat.WireType.Fixed32): vertices.Add(mesh.ReadFloat()); break;
                        case (4, WireFormat.WireType.Varint): indices.Add((int)mesh.ReadUInt32()); break;
                        default: mesh.SkipLastField(); break;
                    }
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a MediaPipe geometry file: {e.Message}", e);
        }

        if (vertices.Count != 468 * 5 || indices.Count != 898 * 3)
        {
            throw new InvalidDataException($"{path}: expected 468 vertices and 898 triangles, found {vertices.Count / 5.0} and {indices.Count / 3.0}");
        }

        var positions = new float[468 * 3];
        var uvs = new float[468 * 2];
        for (int i = 0; i < 468; i++)
        {
            positions[i * 3] = vertices[i * 5];
            positions[(i * 3) + 1] = -vertices[(i * 5) + 1];
            positions[(i * 3) + 2] = -vertices[(i * 5) + 2];
            uvs[i * 2] = vertices[(i * 5) + 3];
            uvs[(i * 2) + 1] = vertices[(i * 5) + 4];
        }

        // Out of the face is -z in the head frame.
        return new Mesh(positions, uvs, [.. indices], (_, _, _) => (0, 0, -1));
    }

    private static int[] Grid(int slices, int stacks)
    {
        var t = new List<int>();
        for (int i = 0; i < stacks; i++)
        {
            for (int j = 0; j < slices; j++)
            {
                int a = (i * (slices + 1)) + j, b = a + 1, c = a + slices + 1, d = c + 1;
                t.AddRange([a, c, b, b, c, d]);
            }
        }

        return [.. t];
    }

    private static float[] ComputeNormals(float[] p, int[] t)
    {
        var n = new float[p.Length];
        for (int i = 0; i < t.Length; i += 3)
        {
            int a = t[i] * 3, b = t[i + 1] * 3, c = t[i + 2] * 3;
            float ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
            float vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
            float nx = (uy * vz) - (uz * vy), ny = (uz * vx) - (ux * vz), nz = (ux * vy) - (uy * vx);
            foreach (int k in new[] { a, b, c })
            {
                n[k] += nx;
                n[k + 1] += ny;
                n[k + 2] += nz;
            }
        }

        for (int i = 0; i < n.Length; i += 3)
        {
            float len = MathF.Sqrt((n[i] * n[i]) + (n[i + 1] * n[i + 1]) + (n[i + 2] * n[i + 2]));
            if (len > 0)
            {
                n[i] /= len;
                n[i + 1] /= len;
                n[i + 2] /= len;
            }
        }

        return n;
    }
}
